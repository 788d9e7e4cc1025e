"""The project's own tests, which the conformance suite leaves as they are."""

from __future__ import annotations

import json

import pytest
from receipts.models import Message


@pytest.mark.django_db
def test_documented_report_updates_the_message(client) -> None:  # type: ignore[no-untyped-def]
    Message.objects.create(message_id="1446644528730001", api_job_id="job-1")
    report = {"message_id": "1446644528730001", "status": "DELIVRD", "timestamp": 1443165174}
    answer = client.post("/dlr/", json.dumps({"api_job_id": "job-1", "data": [report]}), "application/json")
    assert answer.status_code == 200
    assert Message.objects.get(message_id="1446644528730001").status == "DELIVRD"


def test_get_is_not_allowed(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/dlr/")
    assert answer.status_code == 405
