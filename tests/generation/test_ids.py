"""One run-tagged id scheme: every api_job_id the tool makes is ``dlrc-<run id>-<UUID>``, so one rule finds (and
purges) what any run stored; message ids are 20 digits and never repeat across the sources of one run."""

from __future__ import annotations

import json
import re
import uuid

from conformance.generation.aspects import Ids, run_job_id
from conformance.generation.campaign import Campaign, templates
from conformance.generation.cases import CASES, fresh, scenario_ids

RUN = "4f9a0c1e"
SHAPE = re.compile(
    rf"dlrc-{RUN}-(?P<uuid>[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}})\Z"
)


def _is_run_tagged(job_id: str) -> bool:
    match = SHAPE.match(job_id)
    return bool(match) and uuid.UUID(match["uuid"]).version == 4


def test_every_source_makes_the_same_shape() -> None:
    generated = Ids(RUN)
    scenario = fresh(CASES[0].payload, RUN)
    campaign = Campaign(RUN, templates(4, seed=3), seed=3)
    campaign_job = json.loads(campaign.next_body())["api_job_id"]
    for job_id in (generated.job_id(), scenario["api_job_id"], campaign_job):
        assert _is_run_tagged(job_id), job_id


def test_streams_of_one_run_never_share_an_id() -> None:
    worker, main = Ids(RUN, stream=0), Ids(RUN, stream=1)
    jobs = [worker.job_id() for _ in range(5000)] + [main.job_id() for _ in range(5000)]
    messages = [worker.message_id() for _ in range(5000)] + [main.message_id() for _ in range(5000)]
    assert len(set(jobs)) == len(jobs)
    assert len(set(messages)) == len(messages)
    assert all(len(m) == 20 and m.isdigit() and int(m) > 2**63 for m in messages)


def test_job_ids_are_a_bijection_of_their_number() -> None:
    numbers = [*range(20_000), *((1 << 64) | n for n in range(20_000))]
    assert len({run_job_id(RUN, n) for n in numbers}) == len(numbers)


def test_the_pattern_matches_every_id_of_its_source() -> None:
    ids = Ids(RUN, stream=1)
    body = json.dumps({"api_job_id": ids.job_id(), "data": [{"message_id": ids.message_id()}]}).encode()
    assert ids.pattern().sub(b"ID", body) == b'{"api_job_id": "ID", "data": [{"message_id": "ID"}]}'


def test_fresh_renames_each_message_once_and_the_scenario_source_is_per_run() -> None:
    payload = {"api_job_id": "x", "data": [{"message_id": "1"}, {"message_id": "1"}, {"message_id": "2"}]}
    body = fresh(payload, RUN)
    first, again, other = (r["message_id"] for r in body["data"])
    assert first == again != other
    assert scenario_ids(RUN) is scenario_ids(RUN)
    assert scenario_ids(RUN) is not scenario_ids("00000001")
