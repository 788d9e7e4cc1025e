"""Fixtures of the receiver tests; the helper module beside it made importable (``--import-mode=importlib`` puts no
test folder on ``sys.path``)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if "receiver_cli" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("receiver_cli", Path(__file__).with_name("receiver_cli.py"))
    assert _spec is not None
    assert _spec.loader is not None
    sys.modules["receiver_cli"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["receiver_cli"])

from receiver_cli import Serving, start_serve


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
