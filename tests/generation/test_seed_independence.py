"""The verdict of the generated check does not depend on the seed: one fault is judged at one level, every time.

Three receivers, each with one fault, each run through the installed command with 20 different seeds and 10
generated payloads (``BATCH_ASPECTS``: every aspect is exercised within the first ten, whatever the seed):

* refuses NUL (as a PostgreSQL text column does): an adversarial value, DLR-17 (SHOULD),
  ``conformant_with_warnings`` for every seed;
* refuses unknown extra fields (a strict model): DLR-06 (SHOULD), ``conformant_with_warnings`` for every seed;
* refuses unknown statuses: DLR-04 (MUST), ``not_conformant`` for every seed.

The runs go three at a time: most of a run is starting Python, pytest and the generator.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import schema as contract

CLI = Path(sys.executable).parent / "dlr-conformance"
SEEDS = range(1, 21)
EXAMPLES = "10"
PARALLEL = 3

TOP = {"api_job_id", "client_job_id", "data"}
RECORD = set(contract.load_schema()["definitions"]["callback_info"]["properties"])


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def refuses_nul(body: dict[str, Any]) -> tuple[int, bytes]:
    """PostgreSQL: ``invalid byte sequence for encoding "UTF8": 0x00`` -> 500."""
    if any("\x00" in text for text in _strings(body)):
        return 500, b'invalid byte sequence for encoding "UTF8": 0x00'
    return 200, b""


def refuses_extra_fields(body: dict[str, Any]) -> tuple[int, bytes]:
    """A strict model (``extra = "forbid"``): any field it does not know is a 422."""
    if set(body) - TOP or any(set(record) - RECORD for record in body["data"]):
        return 422, b"extra fields not permitted"
    return 200, b""


def refuses_unknown_statuses(body: dict[str, Any]) -> tuple[int, bytes]:
    """Maps only the statuses it knows; anything else is a 500."""
    if any(record["status"] not in contract.KNOWN_STATUSES for record in body["data"]):
        return 500, b"unknown status"
    return 200, b""


def _serve(judge: Callable[[dict[str, Any]], tuple[int, bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            status, reply = judge(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[socket.socket, Any]:
            conn, addr = super().get_request()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn, addr

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run(url: str, seed: int, where: Path) -> tuple[int, dict[str, Any]]:
    where.mkdir()
    command = [str(CLI), "--target-url", url, "-k", "generated", "--examples", EXAMPLES, "--seed", str(seed)]
    command += ["--json", str(where / "s.json"), "--html", str(where / "r.html"), "--junitxml", str(where / "j.xml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))}
    done = subprocess.run(command, cwd=where, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:]
    return done.returncode, json.loads((where / "s.json").read_text(encoding="utf-8"))


def _runs(
    judge: Callable[[dict[str, Any]], tuple[int, bytes]], tmp_path: Path
) -> dict[int, tuple[int, dict[str, Any]]]:
    server = _serve(judge)
    url = f"http://127.0.0.1:{server.server_address[1]}/dlr"
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            futures = {seed: pool.submit(_run, url, seed, tmp_path / f"seed-{seed}") for seed in SEEDS}
            return {seed: future.result() for seed, future in futures.items()}
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("judge", "requirement", "verdict", "exit_code"),
    [
        pytest.param(refuses_nul, "DLR-17", "conformant_with_warnings", 0, id="refuses-NUL"),
        pytest.param(refuses_extra_fields, "DLR-06", "conformant_with_warnings", 0, id="refuses-extra-fields"),
        pytest.param(refuses_unknown_statuses, "DLR-04", "not_conformant", 1, id="refuses-unknown-statuses"),
    ],
)
def test_one_fault_is_judged_at_one_level_for_every_seed(
    judge: Callable[[dict[str, Any]], tuple[int, bytes]], requirement: str, verdict: str, exit_code: int, tmp_path: Path
) -> None:
    """For 20 seeds, the fault is found, every failure is recorded under the requirement it exercises, and the
    verdict is that requirement's level: a SHOULD fault warns, a MUST fault fails, whatever the seed."""
    runs = _runs(judge, tmp_path)
    pinned = {seed: sorted({f["requirement"] for f in summary["failures"]}) for seed, (_, summary) in runs.items()}
    assert pinned == {seed: [requirement] for seed in SEEDS}
    verdicts = {seed: (summary["verdict"], code) for seed, (code, summary) in runs.items()}
    assert verdicts == dict.fromkeys(SEEDS, (verdict, exit_code))
    for seed, (_, summary) in runs.items():
        assert summary["seed"] == seed
        assert summary["requests_sent"] >= int(EXAMPLES)
