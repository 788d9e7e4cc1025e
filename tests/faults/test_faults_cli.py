"""Every faulty receiver fails a run of ``dlr-conformance`` (in-process, through ``main(argv)``), with its fault
named: exactly the requirements meant for it, from its check, in every report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.fault_table import FAULTS, Fault, assert_caught
from tests.support.runs import FAST, run_suite
from tests.support.servers import Served


@pytest.mark.parametrize("fault", [fault.param() for fault in FAULTS])
def test_fault_is_caught_by_the_cli(fault: Fault, served: Callable[[Any], Served], tmp_path: Path) -> None:
    """The run exits 1, not conformant, failing exactly the requirements meant for the fault, which it names."""
    select = ("-k", fault.select) if fault.select else ()
    reports = run_suite(tmp_path, served(fault.make()).url, *FAST, *select, *fault.args)
    assert_caught(fault, reports)
