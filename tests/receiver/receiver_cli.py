"""Helpers of the receiver tests: the installed ``serve`` started, the installed ``stored`` reader run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI = Path(sys.executable).parent / "dlr-conformance"


@dataclass
class Serving:
    """A running ``dlr-conformance serve``: its URL, database and process."""

    url: str
    db: Path
    proc: subprocess.Popen[str]

    def stop(self) -> tuple[str, str]:
        """Ctrl-C, then the rest of its stdout and stderr; it must exit 0."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, err
        return out, err


def start_serve(tmp_path: Path, *args: str) -> Serving:
    """Start the installed ``serve`` on a free port with a database in ``tmp_path``."""
    db = tmp_path / "reports.sqlite3"
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", "0", "--db", str(db), *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("reference receiver listening on http://127.0.0.1:"), line + proc.stderr.read()
    return Serving(line.split()[4], db, proc)


def stored(db: Path, request: Any = None, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``dlr-conformance stored --db DB`` with ``request`` (JSON, or text as is) on stdin."""
    text = "" if request is None else request if isinstance(request, str) else json.dumps(request)
    proc = subprocess.run(
        [str(CLI), "stored", "--db", str(db), *args],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    result = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert "Traceback" not in result.stderr
    return result


def rows(db: Path, request: Any = None) -> dict[str, dict[str, Any]]:
    """The reader's rows by message id; the command must succeed and print JSON Lines."""
    result = stored(db, request)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["message_id"]: row for row in out}
