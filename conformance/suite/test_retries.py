"""Duplicate deliveries, as the platform's retries make them, and reports out of order (DLR-09)."""

from __future__ import annotations

import time

import pytest

from conformance.cases import base_record, documented_example, fresh
from conformance.run import Target

RETRIES = 3  # the platform retries a failed callback three times


def _callback(run_id: str) -> dict[str, object]:
    return fresh(documented_example(), run_id)


@pytest.mark.requirement("DLR-09", requests=RETRIES + 1)
def test_retry_of_a_stored_callback_answered_200(target: Target) -> None:
    """The same callback delivered again after it was stored (a retry) is answered 200 every time."""
    payload = _callback(target.run.run_id)
    for attempt in range(RETRIES + 1):
        if attempt:
            time.sleep(target.run.options.retry_interval)
        target.deliver(payload, label=f"copy {attempt + 1} of {RETRIES + 1} (sequential retry)")
    target.verify()


@pytest.mark.requirement("DLR-09", requests=lambda o: min(o.concurrency, 5))
def test_concurrent_duplicates_answered_200(target: Target) -> None:
    """Copies of one callback arriving at the same moment are each answered 200."""
    copies = min(target.run.options.concurrency, 5)
    payload = _callback(target.run.run_id)
    target.deliver_many([payload] * copies, concurrency=copies,
                        labels=[f"copy {i + 1} of {copies} (concurrent)" for i in range(copies)])
    target.verify()


@pytest.mark.requirement("DLR-09", requests=2)
def test_final_status_before_intermediate_answered_200(target: Target) -> None:
    """A final status (DELIVRD) followed by an earlier intermediate one (ENROUTE) for one message is accepted."""
    run_id = target.run.run_id
    delivered = fresh({"api_job_id": "x", "client_job_id": "job-1", "data": [base_record(status="DELIVRD")]}, run_id)
    enroute = {**delivered, "data": [{**delivered["data"][0], "status": "ENROUTE", "timestamp": 1443165170}]}
    target.deliver(delivered, label="final status DELIVRD first")
    target.deliver(enroute, label="then the intermediate status ENROUTE for the same message")
    target.verify()
