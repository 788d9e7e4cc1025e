"""Duplicate deliveries, as the platform's retries make them, and reports out of order.

Each scenario delivers plain callbacks (:func:`conformance.cases.callback`), so that only the duplication or
the order can make it fail; when the first delivery passes and a later one fails, a note names the mistake.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from conformance.checks.answers import Outcome
from conformance.delivery.sender import PLATFORM_RETRY_MOST
from conformance.engine.run import Driver
from conformance.generation.cases import base_record, callback, fresh

COPIES_IN_SEQUENCE = PLATFORM_RETRY_MOST.attempts  # the first delivery and the platform's retries, at the most


def _first_passed_then_failed(outcomes: Sequence[Outcome]) -> list[int]:
    """Positions (1-based) of the deliveries that failed after the first one passed; empty otherwise."""
    if not outcomes or not outcomes[0].passed:
        return []
    return [i + 1 for i, outcome in enumerate(outcomes) if not outcome.passed]


@pytest.mark.requirement("DLR-09", requests=COPIES_IN_SEQUENCE)
def test_retry_of_a_stored_callback_answered_200(dlr_driver: Driver) -> None:
    """The same callback delivered again after it was stored (a retry) is answered 200 every time."""
    payload = fresh(callback(), dlr_driver.run.run_id)
    outcomes = []
    for attempt in range(COPIES_IN_SEQUENCE):
        if attempt and dlr_driver.run.sender.unreachable is None:  # no waiting before a delivery that is not sent
            time.sleep(dlr_driver.run.options.retry_interval)
        label = f"copy {attempt + 1} of {COPIES_IN_SEQUENCE} (sequential retry)"
        outcomes.append(dlr_driver.deliver(payload, label=label))
    failed = _first_passed_then_failed(outcomes)
    if failed:
        dlr_driver.notes.append(
            f"Not idempotent: copy 1 was answered 200, copies {', '.join(map(str, failed))} of the very same callback "
            "were not. The platform sends a callback again whenever it counted an attempt as failed (a timeout, "
            "say), so a report already stored must be answered 200 again, not fail a unique constraint."
        )
    dlr_driver.verify()


COPIES = 5  # copies of one callback in flight at once
# A race between copies (check, then insert) shows only now and then; each round, on connections already open,
# is one more chance to see it: against a SQLite check-then-insert receiver, one round caught it in 1 run of 24,
# three rounds in 9 of 24.
ROUNDS = 3


@pytest.mark.requirement("DLR-09", requests=lambda o: ROUNDS * min(o.concurrency, COPIES))
def test_concurrent_duplicates_answered_200(dlr_driver: Driver) -> None:
    """Copies of one callback arriving at the same moment are each answered 200 (several rounds, one callback each)."""
    copies = min(dlr_driver.run.options.concurrency, COPIES)
    passed = sent = 0
    for round_ in range(ROUNDS):
        payload = fresh(callback(), dlr_driver.run.run_id)
        labels = [f"round {round_ + 1} of {ROUNDS}: copy {i + 1} of {copies} (concurrent)" for i in range(copies)]
        outcomes = dlr_driver.deliver_many([payload] * copies, concurrency=copies, labels=labels)
        passed += sum(outcome.passed for outcome in outcomes)
        sent += copies
    if 0 < passed < sent:
        dlr_driver.notes.append(
            f"Duplicates arriving together: {passed} of {sent} simultaneous copies were answered 200 and "
            f"{sent - passed} were not, so the duplicate check races with the insert (check and store in one "
            "atomic step, e.g. INSERT ... ON CONFLICT DO NOTHING)."
        )
    dlr_driver.verify()


@pytest.mark.requirement("DLR-09", requests=2)
def test_final_status_before_intermediate_answered_200(dlr_driver: Driver) -> None:
    """A final status (DELIVRD) followed by an earlier intermediate one (ENROUTE) for one message is accepted."""
    delivered = fresh(callback(base_record(status="DELIVRD")), dlr_driver.run.run_id)
    earlier = {"status": "ENROUTE", "timestamp": 1443165170, "micro_timestamp": 1443165170145}  # both fields older
    enroute = {**delivered, "data": [{**delivered["data"][0], **earlier}]}
    outcomes = [
        dlr_driver.deliver(delivered, label="final status DELIVRD first"),
        dlr_driver.deliver(enroute, label="then the intermediate status ENROUTE for the same message"),
    ]
    if _first_passed_then_failed(outcomes):
        dlr_driver.notes.append(
            "Out of order: DELIVRD was answered 200, then ENROUTE for the same message was not. Reports can arrive "
            "out of order (a final status before an intermediate one); keep the final status and answer 200."
        )
    dlr_driver.verify()
