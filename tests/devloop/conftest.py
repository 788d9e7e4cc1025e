"""Fixtures of the developer-loop tests: the installed ``serve``, and receivers that answer by script."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.devloop import Serving, start_serve
from tests.support.servers import Recorder, script


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    """The installed ``serve``, stopped with Ctrl-C after the test; never a traceback."""
    server = start_serve(tmp_path)
    try:
        yield server
    finally:
        if server.running:
            _, err = server.stop()
            assert "Traceback" not in err


@pytest.fixture
def scripted(recorder: Callable[..., Recorder]) -> Callable[..., Recorder]:
    """Start receivers whose answers follow a script, one step per request: a status, "close" (hang up without
    answering) or "hang" (never answer); the last step repeats. All stopped after the test."""
    return lambda *steps: recorder(script(*steps))
