"""Deliberate edge cases, one test per case, grouped by requirement (every requirement that has cases)."""

from __future__ import annotations

import pytest

from conformance.engine.run import Driver
from conformance.generation.cases import CASES, Case, for_requirement, fresh

ONE = {"requests": 1}


def _cases(*requirements: str) -> list[object]:
    return [
        pytest.param(case, id=case.id, marks=pytest.mark.requirement(case.requirement, **ONE))
        for requirement in requirements
        for case in for_requirement(requirement)
    ]


# every requirement that has edge cases, in the order of the cases
REQUIREMENTS = tuple(dict.fromkeys(case.requirement for case in CASES))


@pytest.mark.parametrize("case", _cases(*REQUIREMENTS))
def test_case_answered_200(dlr_driver: Driver, case: Case) -> None:
    """Each edge case, a valid callback, is answered with exactly 200."""
    # the documented example keeps its documented ids, unless the run keeps state (a reader or a preparer): then its
    # ids are run-tagged like every other, so that a second run's preparer never meets the first run's message
    keeps_state = dlr_driver.run.ledger is not None or dlr_driver.run.preparer is not None
    payload = case.payload if case.as_documented and not keeps_state else fresh(case.payload, dlr_driver.run.run_id)
    if case.twins:
        twins = [(requirement, fresh(twin, dlr_driver.run.run_id)) for requirement, twin in case.twins]
        dlr_driver.deliver_blaming(payload, case.name, twins)
    else:
        dlr_driver.deliver(payload, label=case.name)
    dlr_driver.verify()
