"""Where a failure counts: under the requirement it is recorded under, whichever test's scenario found it.

A failed delivery is recorded under the requirement its payload exercises, or the one a twin blames
(:meth:`~conformance.engine.run.Driver.exercised`, :meth:`~conformance.engine.run.Driver.deliver_blaming`), which
need not be the requirement of the test that sent it. That requirement fails in every output; the test that found
it passes when nothing is recorded under its own requirement, and says where its findings went
(:meth:`~conformance.engine.run.Driver.verify`).

The stored-state scenarios run after the others, so the receiving requirement's test may have passed before the
finding was recorded. :func:`settle` makes the results agree at the end of the run: the first passed test of each
receiving requirement becomes failed, saying what was recorded under it and by which scenario; a requirement none
of whose tests judged it (deselected, or not checked) gets one failed result of its own. The pytest plugin applies
the same amendments to pytest's reports; the console, the JSON summary, the HTML report and JUnit read the summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.reporting.summary import Summary, TestResult, failed_deliveries
from conformance.requirements import CATALOGUE

__all__ = ["Amendment", "settle"]


@dataclass(frozen=True)
class Amendment:
    """A test result made failed at the end of the run (``added``: a result the run did not have)."""

    result: TestResult
    added: bool


def _received(summary: Summary, requirement: str) -> list[tuple[TestResult, int]]:
    """The results of other requirements' tests that recorded failed deliveries under ``requirement``, and how many."""
    return [
        (r, r.recorded_under[requirement])
        for r in summary.results
        if requirement in r.recorded_under and r.requirement != requirement
    ]


def _text(requirement: str, received: list[tuple[TestResult, int]]) -> str:
    parts = [
        f"{failed_deliveries(n)} recorded under {requirement} by the {finder.requirement} scenario ({finder.case})"
        for finder, n in received
    ]
    return "; ".join(parts) + " (see the failures in the reports)"


def settle(summary: Summary) -> list[Amendment]:
    """Make every requirement with failures recorded under it fail in its test results; the amendments made."""
    amendments = []
    for requirement in CATALOGUE:
        received = _received(summary, requirement.id)
        if not received:
            continue
        mine = [r for r in summary.results if r.requirement == requirement.id]
        if any(r.outcome in {"failed", "error"} for r in mine):
            continue  # it fails on its own already
        text = _text(requirement.id, received)
        passed = next((r for r in mine if r.outcome == "passed" and r.xfail is None), None)
        if passed is not None:
            passed.outcome, passed.when, passed.message, passed.details = "failed", "call", text, text
            passed.amended = True
            amendments.append(Amendment(passed, added=False))
            continue
        finders = " and ".join(dict.fromkeys(f"the {finder.requirement} scenario" for finder, _ in received))
        why = "its own test was not checked" if mine else "its own test was not selected"
        name = f"recorded by {finders}; {why}"
        added = TestResult(
            nodeid=f"{requirement.id}::{name}",
            name=name,
            requirement=requirement.id,
            outcome="failed",
            message=text,
            details=text,
            properties=[("requirement", requirement.id)],
            amended=True,
        )
        summary.add(added)
        amendments.append(Amendment(added, added=True))
    return amendments
