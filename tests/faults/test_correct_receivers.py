"""Correct receivers pass the full default suite run through the CLI: conformant, no warning, exit 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.fault_table import NOT_GENERATED
from tests.support.faults import SlowOn
from tests.support.receivers import AsyncioReceiver, CorrectWsgiReceiver
from tests.support.runs import FAST, UNHURRIED, SuiteRun, run_suite
from tests.support.servers import Served


def assert_conformant(reports: SuiteRun) -> None:
    """Exit 0, verdict conformant, nothing failed or warned, every suite test in the JUnit report passed."""
    where = f"\n--- output (exit code {reports.code}) ---\n{reports.output[-4000:]}"
    assert reports.code == 0, where
    assert reports.verdict == "conformant", where
    assert reports.failures == [], where
    assert reports.warnings == [], where
    assert reports.failed() == set(), where
    assert reports.summary["requests_sent"] > 0
    assert "test_generated_payloads_answered_200" in reports.passed()


def test_reference_receiver_embedded_passes_the_full_default_suite(tmp_path: Path) -> None:
    """No --target-url: the bundled reference receiver is tested with every default."""
    reports = run_suite(tmp_path, None, *UNHURRIED)
    assert_conformant(reports)
    assert reports.summary["embedded_receiver"] is True
    assert len(reports.passed()) == sum(reports.summary["tests"].values()) - reports.summary["tests"]["skipped"]


def test_asyncio_receiver_passes_the_full_default_suite(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """A correct receiver written differently (raw HTTP/1.1 on asyncio streams) passes with every default."""
    receiver = served(AsyncioReceiver())
    reports = run_suite(tmp_path, receiver.url, *UNHURRIED)
    assert_conformant(reports)
    assert reports.summary["embedded_receiver"] is False


def test_the_faulty_receivers_base_view_is_correct(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """The WSGI view every faulty receiver changes in one place passes: each fault is that one change."""
    receiver = served(CorrectWsgiReceiver())
    assert_conformant(run_suite(tmp_path, receiver.url, *FAST, *UNHURRIED))


def test_slow_receiver_passes_with_warnings(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """Answers after the latency budget but within the timeout: warnings, verdict conformant_with_warnings, exit 0."""
    receiver = served(SlowOn(0.75, ["ENROUTE"]))  # a slow downstream call for intermediate reports only
    reports = run_suite(
        tmp_path,
        receiver.url,
        *FAST,
        "-k",
        NOT_GENERATED,
        "--latency-budget",
        "0.25",
        "--timeout",
        "5",
    )
    where = f"\n--- output (exit code {reports.code}) ---\n{reports.output[-4000:]}"
    assert reports.code == 0, where
    assert reports.verdict == "conformant_with_warnings", where
    assert reports.failures == [], where
    assert reports.failed() == set(), where
    slow = {
        "status ENROUTE",
        "status progression of one message in one callback",
        "then the intermediate status ENROUTE for the same message",
    }
    # the slow answers warn; on a loaded machine another answer may be slow too, which is no failure either
    assert slow <= {w["case"] for w in reports.warnings}, where
    for warning in reports.warnings:
        assert warning["check"] == "latency_within_budget"
        assert "over the 0.25 s latency budget" in warning["message"]
    assert "CONFORMANT WITH WARNINGS" in reports.output
