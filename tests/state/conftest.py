"""Fixtures of the stored-state self-tests: the SQLite-backed stateful receiver (:mod:`tests.support.stateful`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.stateful import StatefulReceiver


@pytest.fixture
def stateful(tmp_path: Path) -> Iterator[Callable[..., StatefulReceiver]]:
    """Start stateful receivers (``stateful(fault, reports=True, token='')``), each with its own database;
    stop them after."""
    running: list[StatefulReceiver] = []

    def start(fault: str = "", *, reports: bool = True, token: str = "") -> StatefulReceiver:
        db = tmp_path / f"store-{len(running)}.sqlite3"
        receiver = StatefulReceiver(db, fault, reports=reports, token=token).start()
        running.append(receiver)
        return receiver

    yield start
    for receiver in running:
        receiver.stop()
