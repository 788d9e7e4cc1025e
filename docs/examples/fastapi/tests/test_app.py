"""The project's own tests, which the conformance suite leaves as they are."""

from __future__ import annotations

import requests


def test_documented_callback_is_answered_200(live_url: str) -> None:
    answer = requests.post(f"{live_url}/dlr", json={"api_job_id": "job-1", "data": []}, timeout=10)
    assert answer.status_code == 200


def test_not_json_is_refused(live_url: str) -> None:
    assert requests.post(f"{live_url}/dlr", data=b"not json", timeout=10).status_code == 400
