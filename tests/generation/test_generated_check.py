"""The generated check through the installed command: it passes a correct receiver and shrinks a failure."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import schema as contract

CLI = Path(sys.executable).parent / "dlr-conformance"


class _StrictStatuses(BaseHTTPRequestHandler):
    """A receiver that maps only the statuses it knows: anything else is a 500."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = all(r.get("status") in contract.KNOWN_STATUSES for r in body["data"])
        reply = b"" if ok else b"unknown status"
        self.send_response(200 if ok else 500)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


@pytest.fixture
def strict_receiver() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _StrictStatuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dlr"
    server.shutdown()
    server.server_close()


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = subprocess.run(
        [
            str(CLI),
            "-k",
            "generated",
            "--json",
            str(tmp_path / "s.json"),
            "--html",
            str(tmp_path / "r.html"),
            "--junitxml",
            str(tmp_path / "j.xml"),
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc, json.loads((tmp_path / "s.json").read_text())


def test_generated_check_passes_the_reference_receiver(tmp_path: Path) -> None:
    proc, summary = _run(tmp_path, "--examples", "300", "--seed", "5")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert summary["verdict"] == "conformant"
    assert summary["requests_sent"] == 300
    assert "Traceback" not in proc.stdout + proc.stderr


def test_generated_failure_is_shrunk_to_a_minimal_payload(tmp_path: Path, strict_receiver: str) -> None:
    proc, summary = _run(tmp_path, "--target-url", strict_receiver, "--examples", "500", "--seed", "7")
    assert proc.returncode == 1
    assert summary["verdict"] == "not_conformant"
    assert {f["requirement"] for f in summary["failures"]} == {"DLR-04"}  # the requirement the payload exercises
    # the console's notes of the failed test, indented under it
    line = next(x.strip() for x in proc.stdout.splitlines() if x.strip().startswith("Minimal failing payload (shrunk"))
    minimal = json.loads(line.split("): ", 1)[1])  # "Minimal failing payload (how; requirement): {...}"
    assert contract.is_valid(minimal)
    (record,) = minimal["data"]  # shrunk to a single record ...
    assert record["status"] not in contract.KNOWN_STATUSES  # ... that still shows the fault
    assert len(record["status"]) <= 3
    assert record["type"] == "SMS"
    assert record["error_code"] == 0
    assert set(minimal) == {"api_job_id", "data"}
    assert "minimal failing payload (shrunk):" in proc.stdout  # the cause's reproduction is the minimal one
    assert "Failed with a server error [500]" in proc.stdout
