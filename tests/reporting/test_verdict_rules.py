"""The verdict rules as pure logic: a summary of test results, no receiver, no run (tests/faults judge whole runs).

MUST failures fail the run; SHOULD failures and warnings leave it conformant with warnings unless ``--strict``;
a run that judged nothing is an error, never a pass; an interrupted run is interrupted whatever it found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from conformance.engine.run import Finding, Run
from conformance.options import ExitCode, RunOptions
from conformance.reporting.console import verdict_lines
from conformance.reporting.summary import Selection, Summary
from conformance.reporting.summary import TestResult as Result  # as named, pytest would collect it
from conformance.reporting.verdict import Verdict

URL = "http://127.0.0.1:9/dlr"  # never reached: nothing is sent


@pytest.fixture
def summaries() -> Iterator[Callable[..., Summary]]:
    """Empty summaries of runs against a receiver that is never called: ``summaries(strict=False)``."""
    runs: list[Run] = []

    def make(*, strict: bool = False) -> Summary:
        runs.append(Run(RunOptions(target_url=URL, seed=1, strict=strict), URL))
        return Summary(runs[-1])

    yield make
    for run in runs:
        run.close()


@pytest.fixture
def summary(summaries: Callable[..., Summary]) -> Summary:
    """An empty summary of a run, not strict."""
    return summaries()


def passed(requirement: str = "DLR-02", name: str = "test_case_answered_200[documented-example]") -> Result:
    """A suite test that passed on its deliveries."""
    return Result(f"suite::{name}", name, requirement, "passed", delivered=1)


def failed(requirement: str, title: str = "Answered with a success status other than 200", status: int = 202) -> Result:
    """A suite test that failed, with one finding of its check."""
    name = f"test_case_answered_200[{requirement.lower()}-case]"
    finding = Finding(requirement, "status_code_is_200", title, f"{title}\nReceived: {status}\nExpected: 200", name,
                      curl=f"curl -sS {URL}", status=status)  # fmt: skip
    return Result(f"suite::{name}", name, requirement, "failed", findings=[finding], delivered=1)


def warned(requirement: str = "DLR-01") -> Result:
    """A suite test that passed with a warning (a slow answer)."""
    result = passed(requirement, "test_case_answered_200[slow]")
    result.warnings.append(Finding(requirement, "latency_within_budget", "Slow answer", "answered after 3 s", "slow"))
    return result


def skipped(requirement: str = "DLR-12") -> Result:
    """A suite test that could not judge (not checked)."""
    return Result("suite::test_certificate", "test_certificate", requirement, "skipped", message="not applicable")


@pytest.mark.parametrize(
    ("results", "verdict", "code"),
    [
        pytest.param([passed()], Verdict.CONFORMANT, ExitCode.OK, id="all-passed"),
        pytest.param([passed(), skipped()], Verdict.CONFORMANT, ExitCode.OK, id="passed-and-not-checked"),
        pytest.param([passed(), failed("DLR-02")], Verdict.NOT_CONFORMANT, ExitCode.FAILED, id="a-MUST-failed"),
        pytest.param([passed(), failed("DLR-06")], Verdict.CONFORMANT_WITH_WARNINGS, ExitCode.OK, id="a-SHOULD-failed"),
        pytest.param([warned()], Verdict.CONFORMANT_WITH_WARNINGS, ExitCode.OK, id="a-warning"),
        pytest.param([failed("DLR-06"), failed("DLR-04")], Verdict.NOT_CONFORMANT, ExitCode.FAILED, id="MUST-wins"),
        pytest.param([], Verdict.ERROR, ExitCode.ERROR, id="nothing-ran"),
        pytest.param([skipped(), skipped("DLR-13")], Verdict.ERROR, ExitCode.ERROR, id="nothing-judged"),
    ],
)
def test_the_verdict_and_its_exit_code(
    summary: Summary, results: list[Result], verdict: Verdict, code: ExitCode
) -> None:
    for result in results:
        summary.add(result)
    assert (summary.verdict, summary.exit_code) == (verdict, code)
    assert summary.to_json()["verdict"] == verdict.value


@pytest.mark.parametrize("lesser", [failed("DLR-06"), warned()], ids=["a-SHOULD-failed", "a-warning"])
def test_strict_fails_what_would_warn(summaries: Callable[..., Summary], lesser: Result) -> None:
    summary = summaries(strict=True)
    summary.add(passed())
    summary.add(lesser)
    assert (summary.verdict, summary.exit_code) == (Verdict.NOT_CONFORMANT, ExitCode.FAILED)
    assert summary.to_json()["strict"] is True


def test_an_interrupted_run_is_interrupted_whatever_it_found(summary: Summary) -> None:
    summary.add(failed("DLR-02"))
    summary.interrupted = True
    assert (summary.verdict, summary.exit_code) == (Verdict.INTERRUPTED, ExitCode.INTERRUPTED)
    assert summary.banner().startswith("INTERRUPTED")


def test_a_run_that_judged_nothing_says_why_and_is_never_conformant(summary: Summary) -> None:
    summary.add(skipped())
    assert summary.verdict == Verdict.ERROR
    assert summary.problem.startswith("nothing was judged: every selected check was not checked")
    document = summary.to_json()
    assert document["internal_error"] == summary.problem
    assert summary.problem in document["explanation"]


def test_a_selection_is_a_partial_run_and_says_so(summary: Summary) -> None:
    summary.add(passed())
    summary.selection = Selection(keyword="documented", deselected=[("test_burst", "DLR-11")])
    assert summary.verdict == Verdict.CONFORMANT
    assert summary.complete is False
    assert summary.banner() == "CONFORMANT (PARTIAL)"
    document = summary.to_json()
    assert document["complete"] is False
    assert "DLR-11" in document["not_run"]
    assert document["options"]["selection"] == "-k 'documented'"


def test_the_summary_is_json_and_names_each_failure_once_by_cause(summary: Summary) -> None:
    for requirement in ("DLR-01", "DLR-02", "DLR-03"):  # one cause (a 202) across three requirements
        summary.add(failed(requirement))
    summary.add(warned("DLR-04"))
    document = json.loads(json.dumps(summary.to_json()))
    (cause,) = document["causes"]
    assert cause["requirements"] == ["DLR-01", "DLR-02", "DLR-03"]
    assert document["failure_count"] == 3
    assert document["warning_count"] == 1
    assert {f["requirement"] for f in document["failures"]} == {"DLR-01", "DLR-02", "DLR-03"}
    rows = {row["id"]: row["state"] for row in document["requirements"]}
    assert (rows["DLR-01"], rows["DLR-04"], rows["DLR-05"]) == ("failed", "warnings", "not_run")


def test_the_console_names_each_cause_once_and_keeps_should_and_warnings_apart(summary: Summary) -> None:
    for requirement in ("DLR-01", "DLR-02"):
        summary.add(failed(requirement))
    summary.add(failed("DLR-06", "Rejected the callback (422)", 422))
    summary.add(warned("DLR-04"))
    text = "\n".join(verdict_lines(summary))
    assert text.count("Answered with a success status other than 200 [202]: 2 deliveries") == 1
    must, should, warnings = (text.index(h) for h in ("Failures (MUST)", "Failed recommendations (SHOULD)", "Warnings"))
    assert must < should < warnings
    assert "warnings, not failures, unless --strict" in text
    assert text.count(f"curl -sS {URL}") == 2 + 1  # a reproduction per requirement of a cause, at most two
    quiet = verdict_lines(summary, quiet=True)
    assert len(quiet) < len(text.splitlines())
    assert "curl" not in "\n".join(quiet)
