"""The developer loop's commands: ``serve`` as a process (the reference receiver as a server, stopped with Ctrl-C),
``stored`` and ``send`` in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cli import Result, invoke
from tests.support.process import CLI, Process

__all__ = ["Serving", "rows", "send", "start_serve", "stored"]


@dataclass
class Serving:
    """A running ``dlr-conformance serve``: its URL, database and process."""

    url: str
    db: Path
    process: Process

    def stop(self) -> tuple[str, str]:
        """Ctrl-C, then the rest of its stdout (after the first line) and its stderr; it must exit 0."""
        self.process.interrupt()
        done = self.process.wait(20)
        assert done.code == 0, done.stderr
        return "".join(line for _, line in done.lines[1:]), done.stderr

    @property
    def running(self) -> bool:
        """Whether it still runs."""
        return self.process.proc.poll() is None


def start_serve(tmp_path: Path, *args: str) -> Serving:
    """Start the installed ``serve`` on a free port with a database in ``tmp_path``."""
    db = tmp_path / "reports.sqlite3"
    process = Process([CLI, "serve", "--port", "0", "--db", db, *args], cwd=tmp_path)
    line = process.wait_for(r"^reference receiver listening on ", timeout=30)
    assert line.startswith("reference receiver listening on http://127.0.0.1:"), line
    return Serving(line.split()[4], db, process)


def stored(db: Path, request: Any = None, *args: str) -> Result:
    """``dlr-conformance stored --db DB ARGS`` with ``request`` (JSON, or text as is) on stdin."""
    text = "" if request is None else request if isinstance(request, str) else json.dumps(request)
    result = invoke("stored", "--db", db, *args, stdin=text)
    assert "Traceback" not in result.stderr
    return result


def rows(db: Path, request: Any = None) -> dict[str, dict[str, Any]]:
    """The reader's rows by message id; the command must succeed and print JSON Lines."""
    result = stored(db, request)
    assert result.code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["message_id"]: row for row in out}


def send(*args: str | Path, stdin: str = "") -> Result:
    """``dlr-conformance send ARGS``; never a traceback."""
    result = invoke("send", *args, stdin=stdin)
    assert "Traceback" not in result.output, result.output
    return result
