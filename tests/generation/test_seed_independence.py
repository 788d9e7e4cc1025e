"""The verdict of the generated check does not depend on the seed: one fault is judged at one level, every time.

Three receivers, each with one fault, each run through the command (in-process, ``main(argv)``) with 20 different
seeds and 10 generated payloads (``BATCH_ASPECTS``: every aspect is exercised within the first ten, whatever the
seed), one test per receiver and seed:

* refuses NUL (as a PostgreSQL text column does): an adversarial value, DLR-17 (SHOULD),
  ``conformant_with_warnings`` for every seed;
* refuses unknown extra fields (a strict model): DLR-06 (SHOULD), ``conformant_with_warnings`` for every seed;
* refuses unknown statuses: DLR-04 (MUST), ``not_conformant`` for every seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import schema as contract
from tests.support.draws import strings
from tests.support.runs import run_suite
from tests.support.servers import Arrival, Recorder, Reply

SEEDS = range(1, 21)
EXAMPLES = "10"

TOP = {"api_job_id", "client_job_id", "data"}
RECORD = set(contract.load_schema()["definitions"]["callback_info"]["properties"])


def refuses_nul(body: dict[str, Any]) -> tuple[int, bytes]:
    """PostgreSQL: ``invalid byte sequence for encoding "UTF8": 0x00`` -> 500."""
    if any("\x00" in text for text in strings(body)):
        return 500, b'invalid byte sequence for encoding "UTF8": 0x00'
    return 200, b""


def refuses_extra_fields(body: dict[str, Any]) -> tuple[int, bytes]:
    """A strict model (``extra = "forbid"``): any field it does not know is a 422."""
    if set(body) - TOP or any(set(record) - RECORD for record in body["data"]):
        return 422, b"extra fields not permitted"
    return 200, b""


def refuses_unknown_statuses(body: dict[str, Any]) -> tuple[int, bytes]:
    """Maps only the statuses it knows; anything else is a 500."""
    if any(record["status"] not in contract.KNOWN_STATUSES for record in body["data"]):
        return 500, b"unknown status"
    return 200, b""


def _answer(judge: Callable[[dict[str, Any]], tuple[int, bytes]]) -> Callable[[Arrival, int], Reply]:
    def respond(arrival: Arrival, index: int) -> Reply:
        status, reply = judge(json.loads(arrival.body))
        return status, {}, reply

    return respond


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    ("judge", "requirement", "verdict", "exit_code"),
    [
        pytest.param(refuses_nul, "DLR-17", "conformant_with_warnings", 0, id="refuses-NUL"),
        pytest.param(refuses_extra_fields, "DLR-06", "conformant_with_warnings", 0, id="refuses-extra-fields"),
        pytest.param(refuses_unknown_statuses, "DLR-04", "not_conformant", 1, id="refuses-unknown-statuses"),
    ],
)
def test_one_fault_is_judged_at_one_level_for_every_seed(
    judge: Callable[[dict[str, Any]], tuple[int, bytes]],
    requirement: str,
    verdict: str,
    exit_code: int,
    seed: int,
    recorder: Callable[..., Recorder],
    tmp_path: Path,
) -> None:
    """For each of the 20 seeds, the fault is found, every failure is recorded under the requirement it exercises,
    and the verdict is that requirement's level: a SHOULD fault warns, a MUST fault fails, whatever the seed."""
    receiver = recorder(_answer(judge))
    run = run_suite(tmp_path, receiver.url, "-k", "generated", "--examples", EXAMPLES, "--seed", str(seed))
    assert sorted({f["requirement"] for f in run.summary["failures"]}) == [requirement]
    assert (run.summary["verdict"], run.code) == (verdict, exit_code)
    assert run.summary["seed"] == seed
    assert run.summary["requests_sent"] >= int(EXAMPLES)
