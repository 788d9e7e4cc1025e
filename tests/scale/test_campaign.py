"""Campaign traffic stamped from templates: every body is the JSON of its template's fields and its stamps."""

from __future__ import annotations

import json

from conformance.contract import schema as contract
from conformance.generation.campaign import STAMPED, Campaign, templates


def test_stamped_bodies_keep_their_templates_and_say_what_they_carry() -> None:
    drawn = templates(16, seed=5)
    drawn.append({**drawn[0], "from": 'Quote " \\ \u2603', "extra": {"nested": ["\u00e9", None]}})  # to escape
    campaign = Campaign("abcd1234", drawn, seed=7)
    seen_escaped = False
    for index in range(3000):
        body = campaign.next_body()
        payload = json.loads(body)
        if index < 300:
            assert contract.errors(payload) == [], payload
        assert campaign.last == tuple((payload["api_job_id"], r["message_id"], r["status"]) for r in payload["data"])
        for record in payload["data"]:
            unstamped = {k: v for k, v in record.items() if k not in STAMPED}
            assert any(unstamped == {k: v for k, v in t.items() if k not in STAMPED} for t in drawn), record
            assert abs(record["micro_timestamp"] - record["timestamp"] * 1000) < 2000  # one clock reading, two units
            if "client_message_id" in record:
                assert record["client_message_id"] == f"cm-{record['message_id']}"
            seen_escaped = seen_escaped or record.get("from") == 'Quote " \\ \u2603'
    assert seen_escaped
