"""A burst of concurrent callbacks (DLR-11) and the HTTPS certificate (DLR-12)."""

from __future__ import annotations

import pytest

from conformance.cases import base_record, fresh
from conformance.run import Target


@pytest.mark.requirement("DLR-11", requests=lambda o: o.concurrency)
def test_burst_answered_200_within_deadline(target: Target) -> None:
    """``--concurrency`` distinct callbacks at once: all answered 200 within the deadline; slow ones warn."""
    n = target.run.options.concurrency
    bodies = [fresh({"api_job_id": "x", "data": [base_record(message_id=f"2{i:019d}")]}, target.run.run_id)
              for i in range(n)]
    target.deliver_many(bodies, concurrency=n, labels=[f"burst request {i + 1} of {n}" for i in range(n)])
    target.verify()


@pytest.mark.requirement("DLR-12", requests=1)
def test_https_certificate_validates(target: Target) -> None:
    """Over HTTPS the receiver's certificate validates against the trusted CAs."""
    if not target.run.context.https:
        pytest.skip("not applicable: the target URL is http://, so there is no certificate to validate")
    body = fresh({"api_job_id": "x", "data": [base_record()]}, target.run.run_id)
    target.deliver(body, label="certificate check")
    target.verify()
