"""The generator: every payload validates, each is what its focus says, ids are unique, and the branches that find
bugs are actually reached."""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.contract import schema as contract
from conformance.generation import aspects as profiles
from conformance.generation import payloads
from conformance.generation.cases import CASES
from tests.support.draws import draw, strings
from tests.support.process import run

TAG = "a1b2c3d4"


@pytest.fixture(scope="module")
def drawn() -> list[dict[str, Any]]:
    """2,000 callbacks drawn exactly as the generated check draws them (seeded batches, a fresh interpreter)."""
    return draw(2000, 12345, 25, TAG)


def test_every_drawn_payload_matches_the_contract(drawn: list[dict[str, Any]]) -> None:
    assert len(drawn) == 2000
    invalid = [(p, contract.errors(p)) for p in drawn if not contract.is_valid(p)]
    assert invalid == []


@pytest.mark.parametrize("focus", sorted(set(payloads.BATCH_ASPECTS)))
def test_callback_strategy_draws_valid_payloads(focus: str) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payloads.callback(aspect=focus))
    def drawn(payload: dict[str, Any]) -> None:
        assert contract.errors(payload) == []

    drawn()


ASPECT_OF_FOCUS = {"nul": "adversarial"}


def test_every_payload_exercises_exactly_its_focus(drawn: list[dict[str, Any]]) -> None:
    """The focus is fixed by the position in the batch; the payload's content says the same (profiles.aspect)."""
    for i, payload in enumerate(drawn):
        focus = payloads.BATCH_ASPECTS[(i % 25) % len(payloads.BATCH_ASPECTS)]
        assert profiles.aspect(payload) == ASPECT_OF_FOCUS.get(focus, focus), (focus, payload)


def test_realistic_payloads_hold_no_adversarial_value(drawn: list[dict[str, Any]]) -> None:
    """Control characters, NUL, boundary timestamps and the like appear only in the adversarial profile."""
    realistic = [p for i, p in enumerate(drawn) if _focus(i) not in ("nul", "adversarial")]
    assert len(realistic) > 1000
    assert all(profiles.adversarial_values(p) == [] for p in realistic)
    assert not any("\x00" in text for p in realistic for text in strings(p))


def _focus(i: int) -> str:
    return payloads.BATCH_ASPECTS[(i % 25) % len(payloads.BATCH_ASPECTS)]


def test_every_nul_focused_payload_carries_a_nul(drawn: list[dict[str, Any]]) -> None:
    nul = [p for i, p in enumerate(drawn) if payloads.BATCH_ASPECTS[(i % 25) % len(payloads.BATCH_ASPECTS)] == "nul"]
    assert nul
    assert all(any("\x00" in text for text in strings(p)) for p in nul)


def test_the_first_ten_payloads_cover_every_focus() -> None:
    """Whatever the seed, ``--examples 10`` exercises every aspect once: a fault is found at its level every time."""
    assert set(payloads.BATCH_ASPECTS[:10]) == {
        "realistic",
        "unknown_status",
        "unknown_type",
        "extra_fields",
        "nul",
        "adversarial",
    }


def test_ids_are_unique_and_tagged_with_the_run(drawn: list[dict[str, Any]]) -> None:
    """No api_job_id or message_id repeats by accident; api_job_ids are ``dlrc-<run id>-<UUID>``, like every id the
    tool makes (one rule finds what any run stored)."""
    jobs = [p["api_job_id"] for p in drawn]
    messages = [r["message_id"] for p in drawn for r in p["data"]]
    assert len(set(jobs)) == len(jobs) == 2000
    assert len(set(messages)) == len(messages)
    realistic = [p for p in drawn if profiles.aspect(p) != "adversarial"]
    for payload in realistic:
        job = payload["api_job_id"]
        assert job.startswith(f"dlrc-{TAG}-")
        tail = job.removeprefix(f"dlrc-{TAG}-")
        assert str(uuid.UUID(tail)) == tail
        assert uuid.UUID(tail).version == 4
        assert all(len(r["message_id"]) == 20 and r["message_id"].isdigit() for r in payload["data"])
    assert all(int(r["message_id"]) > 2**63 for p in realistic for r in p["data"])  # like the documented example


def test_ids_are_unique_over_many_payloads() -> None:
    """100,000 generated callbacks, 100,000 distinct ids (counters, not draws)."""
    ids = profiles.Ids("0badc0de")
    jobs = {ids.job_id() for _ in range(100_000)}
    messages = {ids.message_id() for _ in range(100_000)}
    assert len(jobs) == len(messages) == 100_000


EXPECTED_ASPECT = {"DLR-17": "adversarial", "DLR-06": "extra_fields"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_fixed_case_is_judged_at_the_level_of_what_it_holds(case: Any) -> None:
    """The edge cases follow the same profiles: adversarial values only under DLR-17, realistic ones elsewhere."""
    found = profiles.aspect(case.payload)
    if case.requirement in EXPECTED_ASPECT:
        assert found == EXPECTED_ASPECT[case.requirement]
    elif case.name.startswith("unknown status"):
        assert found == "unknown_status"
    elif case.name.startswith("unknown type"):
        assert found == "unknown_type"
    else:
        assert found == "realistic", profiles.adversarial_values(case.payload)


REACHED = {
    "an unknown status": lambda p: any(r["status"] not in contract.KNOWN_STATUSES for r in p["data"]),
    "an unknown type": lambda p: any(r["type"] not in contract.KNOWN_TYPES for r in p["data"]),
    "every known status": None,
    "non-ASCII text": lambda p: any(not s.isascii() for s in strings(p)),
    "an unknown top-level field": lambda p: bool(set(p) - {"api_job_id", "client_job_id", "data"}),
    "an unknown record field": lambda p: any(k.startswith("x") for r in p["data"] for k in r),
    "several records": lambda p: len(p["data"]) > 1,
    "client_job_id absent": lambda p: "client_job_id" not in p,
    "client_job_id empty": lambda p: p.get("client_job_id") == "",
    "client_message_id absent": lambda p: any("client_message_id" not in r for r in p["data"]),
    "the sms_from/viber_from form": lambda p: any("from" not in r for r in p["data"]),
    "an empty sender string": lambda p: any(r.get("sms_from") == "" or r.get("viber_from") == "" for r in p["data"]),
    "a timestamp past 32 bits": lambda p: any(r["timestamp"] >= 2**32 for r in p["data"]),
    "a 64-bit maximum": lambda p: any(2**63 - 1 in (r["timestamp"], r["micro_timestamp"]) for r in p["data"]),
    "a non-zero error code": lambda p: any(r["error_code"] != 0 for r in p["data"]),
    "a negative error code": lambda p: any(r["error_code"] < 0 for r in p["data"]),
    "a 7-digit to": lambda p: any(len(r["to"]) == 7 for r in p["data"]),
    "a 15-digit to": lambda p: any(len(r["to"]) == 15 for r in p["data"]),
    "a message_id that is not digits": lambda p: any(not r["message_id"].isdigit() for r in p["data"]),
}


@pytest.mark.parametrize("what", sorted(REACHED))
def test_generation_reaches(drawn: list[dict[str, Any]], what: str) -> None:
    """Realistic values dominate, but each bug-finding branch is reached in 2,000 draws."""
    if what == "every known status":
        seen = {r["status"] for p in drawn for r in p["data"]}
        assert set(contract.KNOWN_STATUSES) <= seen
        return
    predicate = REACHED[what]
    assert predicate is not None
    hits = sum(1 for p in drawn if predicate(p))
    assert 0 < hits < len(drawn), f"{what}: {hits} of {len(drawn)}"


def test_realistic_payloads_dominate(drawn: list[dict[str, Any]]) -> None:
    known = sum(1 for p in drawn for r in p["data"] if r["status"] in contract.KNOWN_STATUSES)
    records = sum(len(p["data"]) for p in drawn)
    assert known / records > 0.7


_DRAW_IN_A_FRESH_PROCESS = """
import hashlib, json, sys
from conformance.generation.worker import hypothesis_test
from conformance.delivery.sender import encode
from conformance.generation.aspects import Ids
out = []
digest = lambda b: out.append(hashlib.sha256(b"".join(encode(x) for x in b)).hexdigest())
hypothesis_test(300, 99, 25, digest, Ids("0f0f0f0f"))()
print(json.dumps(out))
"""


def test_seeded_generation_is_reproducible_across_processes() -> None:
    """The replay that shrinking relies on: the same seed draws the same batches in another process."""
    runs = [json.loads(run([sys.executable, "-c", _DRAW_IN_A_FRESH_PROCESS], check=True).stdout) for _ in range(2)]
    assert len(runs[0]) == 12
    assert runs[0] == runs[1]
