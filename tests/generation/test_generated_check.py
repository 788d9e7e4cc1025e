"""The generated check through the command: it passes a correct receiver and shrinks a failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import schema as contract
from tests.support.runs import UNHURRIED, SuiteRun, run_suite
from tests.support.servers import Arrival, Recorder, Reply


def strict_statuses(arrival: Arrival, index: int) -> Reply:
    """A receiver that maps only the statuses it knows: anything else is a 500."""
    body = json.loads(arrival.body)
    ok = all(r.get("status") in contract.KNOWN_STATUSES for r in body["data"])
    return (200, {}, b"") if ok else (500, {}, b"unknown status")


@pytest.fixture
def strict_receiver(recorder: Callable[..., Recorder]) -> str:
    """The strict receiver's URL, for one test."""
    return recorder(strict_statuses).url


def _run(tmp_path: Path, *args: str) -> tuple[SuiteRun, dict[str, Any]]:
    run = run_suite(tmp_path, None, "-k", "generated", *args)
    return run, run.summary


def test_generated_check_passes_the_reference_receiver(tmp_path: Path) -> None:
    proc, summary = _run(tmp_path, "--examples", "300", "--seed", "5", *UNHURRIED)
    assert proc.code == 0, proc.stdout[-2000:]
    assert summary["verdict"] == "conformant"
    assert summary["requests_sent"] == 300
    assert "Traceback" not in proc.stdout + proc.stderr


def test_generated_failure_is_shrunk_to_a_minimal_payload(tmp_path: Path, strict_receiver: str) -> None:
    proc, summary = _run(tmp_path, "--target-url", strict_receiver, "--examples", "500", "--seed", "7")
    assert proc.code == 1
    assert summary["verdict"] == "not_conformant"
    assert {f["requirement"] for f in summary["failures"]} == {"DLR-04"}  # the requirement the payload exercises
    # the console's notes of the failed test, indented under it
    line = next(x.strip() for x in proc.stdout.splitlines() if x.strip().startswith("Minimal failing payload (shrunk"))
    minimal = json.loads(line.split("): ", 1)[1])  # "Minimal failing payload (how; requirement): {...}"
    assert contract.is_valid(minimal)
    (record,) = minimal["data"]  # shrunk to a single record ...
    assert record["status"] not in contract.KNOWN_STATUSES  # ... that still shows the fault
    assert len(record["status"]) <= 3
    assert record["type"] == "SMS"
    assert record["error_code"] == 0
    assert set(minimal) == {"api_job_id", "data"}
    assert "minimal failing payload (shrunk):" in proc.stdout  # the cause's reproduction is the minimal one
    assert "Failed with a server error [500]" in proc.stdout
    # fewer sent than planned, and why: the rest was never drawn
    sent = next(x for x in proc.stdout.splitlines() if x.startswith("Requests sent: "))
    assert " planned (not sent: " in sent
    assert "because the generated check stopped at its first MUST failure (to shrink it)" in sent
