"""The engine's tests: real HTTP servers on loopback (a handler of the standard library's ``http.server``, over
TLS if asked), started for a test and stopped after it; the installed ``load`` command, run to its end."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(handler, tls=None) -> url``: the handler on 127.0.0.1 (a free port) until the test ends."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/dlr"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


CLI = Path(sys.executable).parent / "dlr-conformance"
LoadRun = tuple[subprocess.CompletedProcess[str], dict[str, Any]]


def run_load(tmp_path: Path, *args: str) -> LoadRun:
    """``dlr-conformance load ARGS`` as installed, output files in ``tmp_path``: the process and its JSON summary."""
    outputs = {"--json": "s.json", "--junitxml": "j.xml", "--html": "l.html"}
    done = subprocess.run(
        [str(CLI), "load", *args, *(a for flag, name in outputs.items() for a in (flag, str(tmp_path / name)))],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    return done, summary


@pytest.fixture
def load() -> Callable[..., LoadRun]:
    """``load(tmp_path, *args)``: a finished run of the installed ``dlr-conformance load``."""
    return run_load
