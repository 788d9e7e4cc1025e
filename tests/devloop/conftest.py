"""Fixtures of the receiver tests; the helper module beside it (``devloop_cli``) is importable through pytest's
``pythonpath`` setting (``pyproject.toml``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
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
