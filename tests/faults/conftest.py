"""Fixtures of the fault self-tests: serve a receiver for one test. The helper modules beside it (``fault_serving``,
``fault_receivers``, ``fault_runs``, ``fault_table``) are importable through pytest's ``pythonpath`` setting
(``pyproject.toml``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fault_serving import Served, start


@pytest.fixture
def served() -> Iterator[Callable[[Any], Served]]:
    """Serve receivers (handler classes, WSGI apps, or objects with ``start``) for one test; stop them after it."""
    running: list[Served] = []

    def serve(receiver: Any) -> Served:
        server = start(receiver)
        running.append(server)
        return server

    yield serve
    for server in reversed(running):
        server.stop()


def pytest_configure(config: pytest.Config) -> None:
    """``test_cases.py`` imports the suite's case module, whose parameters carry the ``requirement`` marker; the
    plugin registers that marker only in sessions that run the suite (it is inert elsewhere)."""
    config.addinivalue_line("markers", "requirement(id, requests=1): the suite's requirement marker")
