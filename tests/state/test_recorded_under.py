"""A failure found by one scenario and recorded under another requirement: every output tells the same story.

The receiver (``batch_unknown_500``) refuses with 500 a batch that carries an unknown status, and stores a single
record whatever its status. Only the stored-state scenario of DLR-13 sends such a batch (its refused batch of 7,
sent with a preparer); the 500 was never acknowledged, so it is recorded under DLR-04, the requirement its payload
exercises, whose own single-record cases all pass. DLR-04 then fails, and DLR-13 passes and says where its finding
went, in the console, the HTML report, JUnit, the JSON summary and pytest's own outcome, whether the run goes
through the CLI or through pytest, and whether DLR-04's own tests were selected or not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.runs import SuiteRun, run_pytester, run_suite
from tests.support.stateful import StatefulReceiver

FINDER, RECEIVER = "DLR-13", "DLR-04"
BOTH = ("--requirement", RECEIVER, "--requirement", FINDER)
ONLY_THE_FINDER = ("-k", "test_acknowledged_reports_are_stored")
NOTE = f"1 failed delivery found by this scenario is recorded under {RECEIVER} (batch of 7 records"


def _args(receiver: StatefulReceiver, *selection: str) -> tuple[str, ...]:
    return (*selection, "--retry-interval", "0", "--state-timeout", "2", "--state-cmd", receiver.reader,
            "--prepare-cmd", receiver.preparer)  # fmt: skip


def _assert_one_story(reports: SuiteRun) -> None:
    """DLR-04 failed and DLR-13 passed with its note, in each output (check_agreement has compared every
    requirement across the outputs already)."""
    assert reports.code == 1, reports.output[-3000:]
    assert reports.verdict == "not_conformant"
    rows = {row["id"]: row for row in reports.summary["requirements"]}
    assert (rows[RECEIVER]["state"], rows[RECEIVER]["found_by"]) == ("failed", {FINDER: 1})
    assert (rows[FINDER]["state"], rows[FINDER]["recorded_under"]) == ("passed", {RECEIVER: 1})
    assert reports.failing_requirements == {RECEIVER}
    finder = [case for case in reports.junit.iter("testcase") if reports.junit_requirement(case) == FINDER]
    assert [case.find("failure") for case in finder] == [None]
    assert NOTE in (finder[0].findtext("system-out") or "")
    failed = [case for case in reports.junit.iter("testcase") if case.find("failure") is not None]
    assert [reports.junit_requirement(case) for case in failed] == [RECEIVER]
    assert f"1 failed delivery recorded under {RECEIVER} by the {FINDER} scenario" in (
        failed[0].findtext("failure") or ""
    )
    assert f"{FINDER} MUST   passed          Nothing acknowledged is lost" in reports.output
    assert f"-- 1 failed delivery recorded under {RECEIVER}" in reports.output
    assert f"{RECEIVER} MUST   failed (MUST)" in reports.output
    html = reports.html_text()
    assert NOTE in html  # the finder's evidence, in its row of the results table
    assert f"1 failed delivery found by the {FINDER} scenario" in html  # the receiving requirement's row
    # pytest-html's table shows each test as it ran: the result failed at the end is named above it
    amended = html.split('<div id="dlr-amended">', 1)[-1].split("</div>", 1)[0]
    assert f"<b>{RECEIVER} " in amended, amended
    assert f"recorded under {RECEIVER} by the {FINDER} scenario" in amended


def test_cli_tells_one_story(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """Through the CLI, both requirements selected: DLR-04's first passed case is failed at the end of the run."""
    receiver = stateful("batch_unknown_500")
    reports = run_suite(tmp_path, receiver.url, *_args(receiver, *BOTH))
    _assert_one_story(reports)
    row = next(row for row in reports.summary["requirements"] if row["id"] == RECEIVER)
    assert (row["tests"], row["failed"]) == (row["passed"] + 1, 1)


def test_pytest_tells_one_story(pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver]) -> None:
    """Through pytest: the DLR-04 test amended at the end is FAILED in pytest's own summary and counts."""
    receiver = stateful("batch_unknown_500")
    result, reports = run_pytester(pytester, receiver.url, *_args(receiver, *BOTH))
    _assert_one_story(reports)
    tests = reports.summary["tests"]
    result.assert_outcomes(passed=tests["passed"], failed=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(
        [
            f"{RECEIVER}: 1 failed delivery recorded under {RECEIVER} by the {FINDER} scenario*",
            "FAILED *test_case_answered_200*",
        ]
    )


def test_receiving_requirement_deselected(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """Only DLR-13's test selected: DLR-04 gets one failed result of its own, in every output, through the CLI."""
    receiver = stateful("batch_unknown_500")
    reports = run_suite(tmp_path, receiver.url, *_args(receiver, *ONLY_THE_FINDER))
    _assert_one_story(reports)
    assert reports.summary["tests"] == {"passed": 1, "failed": 1, "skipped": 0, "error": 0}
    name = f"recorded by the {FINDER} scenario; its own test was not selected"
    assert name in reports.testcases()


def test_receiving_requirement_deselected_in_pytest(
    pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver]
) -> None:
    """The same through pytest: the added result is one more failed test in pytest's counts and -ra lines."""
    receiver = stateful("batch_unknown_500")
    result, reports = run_pytester(pytester, receiver.url, *_args(receiver, *ONLY_THE_FINDER))
    _assert_one_story(reports)
    result.assert_outcomes(passed=1, failed=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(
        # pytest adds " - <message>" to the line where it has room (always with CI set): the line starts so
        [f"FAILED {RECEIVER}::recorded by the {FINDER} scenario; its own test was not selected*"]
    )
