"""The engine's tests: real HTTP servers on loopback (:mod:`tests.support.servers`, over TLS if asked), started for
a test and stopped after it; ``load`` (in-process; Locust is its own process), run to its end."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, invoke
from tests.support.servers import Recorder, Respond

Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(respond, tls=None) -> url``: a receiver answering with ``respond`` on 127.0.0.1 until the test ends."""
    started: list[Recorder] = []

    def start(respond: Respond, tls: ssl.SSLContext | None = None) -> str:
        started.append(Recorder(respond, tls=tls).start())
        return started[-1].url

    yield start
    for receiver in started:
        receiver.stop()


LoadRun = tuple[Result, dict[str, Any]]


def run_load(tmp_path: Path, *args: str) -> LoadRun:
    """``dlr-conformance load ARGS``, output files in ``tmp_path``: what it did and its JSON summary."""
    outputs = {"--json": "s.json", "--junitxml": "j.xml", "--html": "l.html"}
    done = invoke("load", *args, *(a for flag, name in outputs.items() for a in (flag, str(tmp_path / name))))
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    return done, summary


@pytest.fixture
def load() -> Callable[..., LoadRun]:
    """``load(tmp_path, *args)``: a finished run of ``dlr-conformance load``."""
    return run_load
