"""Fixtures of the stored-state self-tests: the SQLite-backed stateful receiver, and the CLI-run helpers.

Like ``tests/faults``, helper modules are loaded by file path (the project imports tests in importlib mode, which
puts no test folder on ``sys.path``): ``stateful`` from here, ``fault_runs`` and ``fault_serving`` from
``tests/faults``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(name: str, folder: Path) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load("fault_serving", HERE.parent / "faults")
_load("fault_runs", HERE.parent / "faults")
_load("stateful", HERE)
_load("postgres", HERE)

from stateful import StatefulReceiver  # noqa: E402 - loaded just above


@pytest.fixture
def stateful(tmp_path: Path) -> Iterator[Callable[..., StatefulReceiver]]:
    """Start stateful receivers (``stateful(fault, reports=True)``), each with its own database; stop them after."""
    running: list[StatefulReceiver] = []

    def start(fault: str = "", *, reports: bool = True) -> StatefulReceiver:
        receiver = StatefulReceiver(tmp_path / f"store-{len(running)}.sqlite3", fault, reports=reports).start()
        running.append(receiver)
        return receiver

    yield start
    for receiver in running:
        receiver.stop()
