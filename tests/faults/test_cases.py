"""The deliberate edge cases are valid callbacks, named uniquely, and cover every requirement they serve."""

from __future__ import annotations

import pytest

from conformance.contract import schema as contract
from conformance.generation.cases import CASES, Case, callback, fresh
from conformance.suite import test_contract_cases


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_is_a_valid_callback(case: Case) -> None:
    """Every case satisfies the contract: a receiver that rejects it rejects something the platform may send."""
    assert contract.errors(case.payload) == []


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fresh_copy_stays_valid_with_new_ids(case: Case) -> None:
    """The copy a run delivers has its own api_job_id and message ids, keeps repeated ids repeated, stays valid."""
    copy = fresh(case.payload, "abcd1234")
    assert contract.errors(copy) == []
    assert copy["api_job_id"].startswith("dlrc-abcd1234-")
    original = [r["message_id"] for r in case.payload["data"]]
    renamed = [r["message_id"] for r in copy["data"]]
    assert len(set(renamed)) == len(set(original))
    assert not set(renamed) & set(original)


def test_case_ids_are_unique() -> None:
    """Each case is one pytest parameter id, so each is one row in every report."""
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_case_requirement_has_cases_and_the_suite_runs_them_all() -> None:
    """DLR-01 to DLR-08, DLR-17 and DLR-18 each have a case, and the suite's parametrisation includes every case."""
    assert {f"DLR-0{i}" for i in range(1, 9)} | {"DLR-17", "DLR-18"} <= {case.requirement for case in CASES}
    params = test_contract_cases._cases(*test_contract_cases.REQUIREMENTS)
    assert len(params) == len(CASES)


def test_plain_callback_is_the_safest_valid_callback() -> None:
    """The plain callback the scenarios send has every optional field, a ``from`` sender, small values."""
    body = callback()
    assert body["client_job_id"]
    assert len(body["data"]) == 1
    record = body["data"][0]
    assert record["from"]
    assert record["client_message_id"]
    assert (record["error_code"], record["status"], record["type"]) == (0, "DELIVRD", "SMS")
    assert record["timestamp"] < 2**31
    assert contract.errors(body) == []
