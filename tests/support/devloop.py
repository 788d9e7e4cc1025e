"""Helpers of the developer-loop tests: the installed serve, stored and send; receivers answering by script."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def send(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed ``dlr-conformance send``; never a traceback."""
    proc = subprocess.run(
        [str(CLI), "send", *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


class Scripted:
    """A receiver whose answers follow a script, one entry per request: a status, "close" (hang up without
    answering) or "hang" (never answer); the last entry repeats. Keeps every body it got."""

    def __init__(self, *script: int | str) -> None:
        self.script = list(script)
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.bodies.append(body)
                outer.headers.append(dict(self.headers))
                step = outer.script[min(len(outer.bodies), len(outer.script)) - 1]
                if step == "close":
                    self.close_connection = True
                    return
                if step == "hang":
                    outer._release.wait(60)
                    self.close_connection = True
                    return
                assert isinstance(step, int)
                self.send_response(step)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/dlr"

    def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
