"""The generator: every payload validates, and the branches that find bugs are actually reached."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from conformance import contract, payloads
from conformance.worker import hypothesis_test


@pytest.fixture(scope="module")
def drawn() -> list[dict[str, Any]]:
    """2,000 callbacks drawn exactly as the generated check draws them (seeded batches)."""
    out: list[dict[str, Any]] = []
    hypothesis_test(2000, 12345, 25, out.extend)()
    return out


def test_every_drawn_payload_matches_the_contract(drawn: list[dict[str, Any]]) -> None:
    assert len(drawn) == 2000
    invalid = [(p, contract.errors(p)) for p in drawn if not contract.is_valid(p)]
    assert invalid == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads.callback())
def test_callback_strategy_draws_valid_payloads(payload: dict[str, Any]) -> None:
    assert contract.errors(payload) == []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


REACHED = {
    "an unknown status": lambda p: any(r["status"] not in contract.KNOWN_STATUSES for r in p["data"]),
    "an unknown type": lambda p: any(r["type"] not in contract.KNOWN_TYPES for r in p["data"]),
    "every known status": None,
    "non-ASCII text": lambda p: any(not s.isascii() for s in _strings(p)),
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
from conformance.worker import hypothesis_test
from conformance.delivery import encode
out = []
hypothesis_test(300, 99, 25, lambda b: out.append(hashlib.sha256(b"".join(encode(x) for x in b)).hexdigest()))()
print(json.dumps(out))
"""


def test_seeded_generation_is_reproducible_across_processes() -> None:
    """The replay that shrinking relies on: the same seed draws the same batches in another process."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _DRAW_IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(2)
    ]
    assert len(runs[0]) == 12
    assert runs[0] == runs[1]
