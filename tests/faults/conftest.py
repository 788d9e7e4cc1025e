"""Fixtures of the fault self-tests: serve a receiver for one test; the sibling helper modules made importable.

The project imports tests with ``--import-mode=importlib``, which puts no test folder on ``sys.path``; so this
conftest loads the helper modules beside it (``fault_serving``, ``fault_receivers``, ``fault_runs`` and
``fault_table``) under those names, before the test modules that import them are collected.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _load(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before executing: dataclasses look their module up by name
    spec.loader.exec_module(module)


for _name in ("fault_serving", "fault_receivers", "fault_runs", "fault_table"):
    _load(_name)

from fault_serving import Served, start  # noqa: E402 - loaded just above


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
