"""The JSON summary: the documented fields and their types, and failures a CI job can act on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.checks.answers import CHECKS

if TYPE_CHECKING:  # the fixtures' types
    from tests.support.runs import SuiteRun

VERDICTS = {"conformant", "conformant_with_warnings", "not_conformant", "interrupted", "error"}
FINDING_KEYS = {"requirement", "level", "check", "title", "status", "case", "message"}
CAUSE_KEYS = {"title", "status", "level", "count", "unit", "reproduction", "requirements", "checks", "received",
              "examples"}  # fmt: skip
STATES = {"passed", "failed", "warnings", "not_checked", "not_run"}


def check_common_fields(summary: dict[str, Any]) -> None:
    """The fields every summary has, with their types."""
    assert summary["verdict"] in VERDICTS
    assert isinstance(summary["explanation"], str)
    assert summary["explanation"]
    assert isinstance(summary["seed"], int)
    assert summary["seed"] == 12345
    assert re.fullmatch(r"[0-9a-f]{8}", summary["run_id"])
    assert isinstance(summary["requests_sent"], int)
    assert summary["requests_sent"] > 0
    assert isinstance(summary["target"], str)
    assert summary["tool"]["name"] == "dlr-conformance"
    latency = summary["latency_s"]
    assert set(latency) == {"p50", "p95", "max"}
    assert all(isinstance(v, float) for v in latency.values())
    assert latency["p50"] <= latency["p95"] <= latency["max"]
    assert set(summary["tests"]) == {"passed", "failed", "skipped", "error"}
    assert all(isinstance(v, int) for v in summary["tests"].values())
    assert isinstance(summary["failures"], list)
    assert isinstance(summary["warnings"], list)
    assert all(isinstance(i, str) for i in summary["api_job_ids"])
    assert len(set(summary["api_job_ids"])) == len(summary["api_job_ids"])
    # what changes the judgement is recorded: strictness, completeness, the options and the selection
    assert summary["strict"] is False
    assert isinstance(summary["complete"], bool)
    assert {"strict", "selection", "examples", "max_rps", "concurrency"} <= set(summary["options"])
    assert summary["options"]["examples"] == 30
    assert all(row["state"] in STATES for row in summary["requirements"])
    assert all(row["level"] in {"MUST", "SHOULD"} for row in summary["requirements"])


def test_a_conformant_run(passing_run: SuiteRun) -> None:
    summary = passing_run.summary
    check_common_fields(summary)
    assert passing_run.code == 0
    assert summary["verdict"] == "conformant"
    assert summary["failures"] == []
    assert summary["embedded_receiver"] is True
    assert summary["tests"]["failed"] == summary["tests"]["error"] == 0
    assert summary["complete"] is True  # DLR-12 not applicable to an http target still reads as a full run
    states = {row["id"]: row["state"] for row in summary["requirements"]}
    assert states.pop("DLR-12") == "not_checked"
    assert states.pop("DLR-22") == "not_checked"  # the bundled receiver's run has no preparer
    assert states.pop("DLR-20") == "not_checked"  # the bundled receiver has no credentials to leave out
    assert states.pop("DLR-19") == "not_checked"  # no status map
    assert set(states.values()) == {"passed"}
    assert "http://" in next(r["reason"] for r in summary["requirements"] if r["id"] == "DLR-12")
    assert any(i.startswith(f"dlrc-{summary['run_id']}-") for i in summary["api_job_ids"])


def test_a_not_conformant_run_lists_each_failure(failing_run: SuiteRun) -> None:
    summary = failing_run.summary
    check_common_fields(summary)
    assert failing_run.code == 1
    assert summary["verdict"] == "not_conformant"
    assert summary["target"] == failing_run.target
    failures = summary["failures"]
    for failure in failures:
        assert set(failure) == FINDING_KEYS
        assert re.fullmatch(r"DLR-\d\d", failure["requirement"])
        assert failure["check"] in {*CHECKS, "internal"}  # "internal": a check that crashed
        assert failure["level"] in {"MUST", "SHOULD"}
        assert isinstance(failure["message"], str)
        assert failure["message"]
    status = [f for f in failures if f["check"] == "status_code_is_200"]
    assert status
    assert all("Received: 202 Accepted" in f["message"] and f["status"] == 202 for f in status)
    # one root cause, shown once: grouped with its count, the requirements it hits and a few reproductions
    causes = summary["causes"]
    assert [(c["title"], c["status"]) for c in causes] == [("Answered with a success status other than 200", 202)]
    cause = causes[0]
    assert set(cause) == CAUSE_KEYS
    assert cause["count"] == summary["failure_count"] > len(failures)  # the list is bounded, the count is not
    assert len(failures) <= 10 + len(cause["requirements"])
    assert 1 <= len(cause["examples"]) <= 3
    assert all(e["curl"].startswith("curl ") and e["curl"].endswith(failing_run.target) for e in cause["examples"])
    failed_ids = set(cause["requirements"])
    assert {f["requirement"] for f in failures} == failed_ids  # each requirement hit is listed at least once
    assert failed_ids == {row["id"] for row in summary["requirements"] if row["state"] == "failed"}
    assert "DLR-01" in failed_ids
    assert cause["level"] == "MUST"
    assert "One cause leads: Answered with a success status other than 200 (202)" in summary["explanation"]
