"""Fixtures of the receiver tests; the helper module beside it made importable (``--import-mode=importlib`` puts no
test folder on ``sys.path``)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if "devloop_cli" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("devloop_cli", Path(__file__).with_name("devloop_cli.py"))
    assert _spec is not None
    assert _spec.loader is not None
    sys.modules["devloop_cli"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["devloop_cli"])

from devloop_cli import Scripted, Serving, start_serve


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    """The installed ``serve``, stopped with Ctrl-C after the test; never a traceback."""
    server = start_serve(tmp_path)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            _, err = server.stop()
            assert "Traceback" not in err


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    """Start receivers that answer by script; all stopped after the test."""
    started: list[Scripted] = []

    def start(*script: int | str) -> Scripted:
        started.append(Scripted(*script))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()
