"""Every faulty receiver fails a run of the installed ``dlr-conformance`` command, with its fault named.

A CLI run spends most of its time starting Python and pytest, so the runs of the selected faults start together
when the first test needs one, ``PARALLEL`` at a time, each against its own receiver; a fault whose receiver
depends on timing (a race, a rate limit, a deadline) runs later, alone, once the others are done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fault_runs import FAST, Reports, run_cli
from fault_serving import Served, start
from fault_table import FAULTS, Fault, assert_caught

PARALLEL = 2


def _args(fault: Fault) -> tuple[str, ...]:
    return (*FAST, *(("-k", fault.select) if fault.select else ()), *fault.args)


class _Runs:
    """CLI runs of the selected faults that do not need to run alone, started together."""

    def __init__(self, faults: list[Fault], tmp_path_factory: pytest.TempPathFactory) -> None:
        self.receivers = {fault.id: start(fault.make()) for fault in faults}
        self.pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="cli-run")
        self.futures: dict[str, Future[Reports]] = {
            fault.id: self.pool.submit(
                run_cli, tmp_path_factory.mktemp(fault.id), self.receivers[fault.id].url, *_args(fault)
            )
            for fault in faults
        }

    def drain(self) -> None:
        """Wait until every started run has finished."""
        self.pool.shutdown(wait=True)

    def close(self) -> None:
        """Finish the runs and stop their receivers."""
        self.drain()
        for receiver in self.receivers.values():
            receiver.stop()


@pytest.fixture(scope="module")
def cli_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Runs]:
    """The CLI runs of every selected fault that may run alongside others."""
    selected = [
        item.callspec.params["fault"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_fault_is_caught_by_the_cli"
    ]
    runs = _Runs([fault for fault in selected if not fault.alone], tmp_path_factory)
    yield runs
    runs.close()


@pytest.mark.parametrize("fault", [fault.param() for fault in FAULTS])
def test_fault_is_caught_by_the_cli(
    fault: Fault, cli_runs: _Runs, served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """The run exits 1, not conformant, failing exactly the requirements meant for the fault, which it names."""
    if fault.alone:
        cli_runs.drain()
        reports = run_cli(tmp_path, served(fault.make()).url, *_args(fault))
    else:
        reports = cli_runs.futures[fault.id].result()
    assert_caught(fault, reports)
