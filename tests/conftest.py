"""Fixtures every test folder may use: serve receivers, record requests, run a command in-process.

The helpers themselves live in :mod:`tests.support`; these fixtures only start and stop them around a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, invoke
from tests.support.receivers import start
from tests.support.servers import Recorder, Respond, Served, ok


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


@pytest.fixture
def recorder() -> Iterator[Callable[..., Recorder]]:
    """Start recording receivers (``recorder(respond)``; every request answered 200 by default), stopped after."""
    started: list[Recorder] = []

    def start_one(respond: Respond = ok) -> Recorder:
        started.append(Recorder(respond).start())
        return started[-1]

    yield start_one
    for receiver in started:
        receiver.stop()


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Result]:
    """``dlr-conformance ARGS`` in-process, in this test's ``tmp_path``: ``cli(*args, stdin=b"")``."""

    def run(*args: str | Path, stdin: bytes | str = b"") -> Result:
        return invoke(*args, stdin=stdin, cwd=tmp_path)

    return run


def pytest_configure(config: pytest.Config) -> None:
    """Tests import the suite's case module, whose parameters carry the ``requirement`` marker; the plugin
    registers that marker only in sessions that run the suite (it is inert elsewhere)."""
    config.addinivalue_line("markers", "requirement(id, requests=1): the suite's requirement marker")


# Where the time goes, for pytest-xdist (tests/ relative node ids, by prefix). SLOW: tests of seconds of wall time
# each, started first so that the run does not end waiting on one. GROUPS: tests that share an expensive module- or
# session-scoped fixture, kept on one worker (and in one unit of its work) so that it is made once.
SLOW = (
    "ecosystem/",
    "engine/test_engine_default_run.py",
    "engine/test_engine_judging.py",
    "engine/test_engine_load.py",
    "faults/test_pytester.py",
    "faults/test_security.py",
    "generation/test_worker_chunks.py",
    "report/",
    "scale/test_load.py",
    "scale/test_load_state.py",
    "scale/test_progress.py",
    "state/test_forged_state.py",
    "state/test_postgres_example.py",
    "test_schema.py::test_from_schema_draws_valid_payloads",
    "test_xdist_groups.py",
)
GROUPS = {
    "report/": "report runs",
    "ecosystem/test_action.py": "the action's virtualenv",
    "ecosystem/test_ci_recipes.py": "the recipes' virtualenv",
    "ecosystem/test_coexistence.py": "plugged virtualenv",
    "ecosystem/test_contract_export.py": "exported contract",
    "generation/test_hostile.py": "hostile draws",
    "generation/test_payloads.py": "drawn payloads",
    "scale/test_load.py::test_the_": "reference load run",
    "state/test_postgres_example.py": "postgres",
}


def _where(nodeid: str) -> str:
    return nodeid.removeprefix(f"{Path(__file__).parent.name}/")


def _group(nodeid: str) -> str | None:
    where = _where(nodeid)
    return next((name for prefix, name in GROUPS.items() if where.startswith(prefix)), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests (the table above) and start them first."""
    for item in items:
        if _where(item.nodeid).startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's ``--dist load``, but the tests of one group (the table above) go to one worker as one unit.

    Not ``--dist loadgroup``: it marks a group by renaming the test's node id, which pytest 9.2 ignores (the id moved
    to another attribute), so every group was spread over the workers and each worker made the group's virtualenv,
    server or run again. A scheduler is the hook pytest-xdist offers for this (``_split_scope`` is how its own
    schedulers say what goes together; docs/explanation/dependencies.md lists it).
    """
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    return GroupScheduling(config, log)
