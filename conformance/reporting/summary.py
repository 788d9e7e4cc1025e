"""The run summary: the verdict and the figures every output file shows, and the JSON summary file.

The verdict rules (``docs/explanation/verdicts.md`` states them for users), in order:

1. ``interrupted``: the run was stopped; what ran so far is reported.
2. ``error``: dlr-conformance itself failed, or nothing was judged (every selected test was not checked, or none
   was selected): a receiver is never called conformant on no evidence.
3. ``not_conformant``: a failure recorded under a MUST requirement; with ``--strict`` also under a SHOULD
   requirement, or any warning; with ``--min-coverage``, fewer coverage cells exercised than it asks for.
4. ``conformant_with_warnings``: a failure recorded under a SHOULD requirement (a failed recommendation), or a
   warning (a slow answer, a large body).
5. ``conformant``.

A failure weighs at the level of the requirement it is recorded under (:attr:`Finding.requirement`), whatever
test recorded it. Each requirement's status is ``passed``, ``failed`` (at its level), ``warnings``, ``not_checked`` (its
tests ran but could not judge it here, with the reason: an http target for the certificate, a rate cap for
capacity, no state reader, no credentials to forge without, no error answer to look at) or ``not_run``
(deselected). Not checked counts as covered; not run makes the run partial (``complete`` false, PARTIAL in the
banner): the verdict holds only for what was selected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.contract import schema as contract
from conformance.engine.coverage import CellCount
from conformance.engine.run import Evidence, Finding, Run
from conformance.options import ExitCode
from conformance.reporting.files import write_json
from conformance.reporting.verdict import Verdict
from conformance.requirements import CATALOGUE, ids_text, level_of

__all__ = ["Cause", "CoverageFigures", "RequirementRow", "Selection", "Summary", "TestResult", "Verdict"]

CAUSE_EXAMPLES = 3  # reproductions (with curl) kept per cause in the JSON summary
LISTED_PER_CAUSE = 10  # failures listed per cause in the JSON summary (each requirement it hits at least once)
SECURITY_NOTE = (
    "tested without credentials: if this URL is reachable from the internet, anyone who learns it can forge "
    "delivery reports; the platform signs nothing: protect it with a long random token in the URL or Basic auth, "
    "and an allowlist of the platform's addresses"
)
STATUS_TEXT = {
    "passed": "passed",
    "warnings": "warnings",
    "not_checked": "not checked",
    "not_run": "not run",
}


def failed_deliveries(count: int) -> str:
    """``1 failed delivery``, ``3 failed deliveries``."""
    return _n(count, "failed delivery", "failed deliveries")


def status_text(status: str, level: str) -> str:
    """A requirement's status as people read it: ``failed (MUST)``, ``not checked``, ..."""
    return f"failed ({level})" if status == "failed" else STATUS_TEXT.get(status, status)


@dataclass
class TestResult:
    """One suite test as the output files show it."""

    nodeid: str
    name: str
    requirement: str
    outcome: str  # passed, failed, skipped (not checked), error
    duration: float = 0.0
    message: str = ""
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delivered: int = 0
    # what the JUnit file shows besides: the phase that ended the test, its whole report text (masked), where a skip
    # happened, its properties, its time with set-up and tear-down, an error in tear-down, an expected failure
    when: str = "call"
    details: str = ""
    location: str = ""
    properties: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    teardown_error: str = ""
    xfail: str | None = None
    # failed deliveries its scenario found that are recorded under other requirements, by requirement, and the line
    # that says so (the test itself passes unless something is recorded under its own requirement)
    recorded_under: dict[str, int] = field(default_factory=dict)
    recorded_note: str = ""
    amended: bool = False  # made failed (or added) at the end of the run: a failure recorded under its requirement

    @property
    def case(self) -> str:
        """The name a user reads: the contract case's id, else the scenario's name."""
        return self.name[self.name.index("[") + 1 : -1] if self.name.endswith("]") and "[" in self.name else self.name

    @property
    def title(self) -> str:
        """``<requirement id> documented-example``: requirement and case, never an installed path."""
        return f"{self.requirement} {self.case}".strip()


@dataclass
class Selection:
    """What the user selected to run: ``-k``, ``--requirement``, and the suite tests left out."""

    keyword: str = ""
    requirements: tuple[str, ...] = ()
    deselected: list[tuple[str, str]] = field(default_factory=list)  # (test name, requirement)

    def describe(self) -> str:
        """The selection in the words of the command line ("" when everything was selected)."""
        parts = [f"-k {self.keyword!r}"] if self.keyword else []
        parts += [f"--requirement {r}" for r in self.requirements]
        return " ".join(parts)


@dataclass
class Cause:
    """Failures that share one cause (the same title and status), wherever they showed."""

    title: str
    status: int | None
    findings: list[Finding] = field(default_factory=list)
    repro: str = ""  # the path of its reproduction script, once written

    @property
    def key(self) -> tuple[str, int | None, str]:
        """What groups its findings: title, status and unit."""
        return (self.title, self.status, self.findings[0].unit if self.findings else "delivery")

    @property
    def requirements(self) -> list[str]:
        """The requirements this cause hits, in catalogue order."""
        hit = {f.requirement for f in self.findings}
        order = [r.id for r in CATALOGUE]
        return sorted(hit, key=lambda r: order.index(r) if r in order else len(order))

    @property
    def level(self) -> str:
        """MUST if it hits any MUST requirement, else SHOULD."""
        return "MUST" if any(level_of(r) == "MUST" for r in self.requirements) else "SHOULD"

    @property
    def count(self) -> int:
        """How many deliveries (or messages) it failed: every one, not only those kept as findings."""
        return sum(f.weight for f in self.findings)

    @property
    def unit(self) -> str:
        """What it counts: ``delivery``, or ``message`` for the stored state."""
        return self.findings[0].unit

    def count_text(self, adjective: str = "") -> str:
        """The count with its unit, and how many are shown when fewer are kept: ``2,439 messages (the first 20
        shown)``; ``adjective`` before the unit (``failed``)."""
        plural = "deliveries" if self.unit == "delivery" else f"{self.unit}s"
        text = f"{self.count:,} {adjective + ' ' if adjective else ''}{self.unit if self.count == 1 else plural}"
        return text + (f" (the first {len(self.findings)} shown)" if self.count > len(self.findings) else "")

    @property
    def received(self) -> str:
        """The first ``Received:`` line of its first failure."""
        return _received(self.findings[0].message)


def _received(message: str) -> str:
    lines = message.splitlines()
    return next((line for line in lines if line.startswith("Received:")), lines[-1] if lines else "")


def group_causes(findings: Iterable[Finding]) -> list[Cause]:
    """Findings grouped by (title, status), the largest group first."""
    causes: dict[tuple[str, int | None, str], Cause] = {}
    for finding in findings:
        key = (finding.title, finding.status, finding.unit)
        causes.setdefault(key, Cause(finding.title, finding.status)).findings.append(finding)
    return sorted(causes.values(), key=lambda c: (c.level != "MUST", -c.count))


@dataclass(frozen=True)
class RequirementRow:
    """One requirement of the catalogue in a run: its status and why, and the counts of its tests."""

    id: str
    level: str
    title: str
    status: str  # passed, failed, warnings, not_checked (its tests could not judge it here), not_run (deselected)
    reason: str
    tests: int
    passed: int
    failed: int
    not_checked: int
    not_run: int
    failures: int
    warnings: int
    # failed deliveries its tests found that are recorded under others, and those others' tests recorded under it
    recorded_under: dict[str, int] = field(default_factory=dict)
    found_by: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The status as people read it: ``failed (MUST)``, ``not checked``, ..."""
        return status_text(self.status, self.level)

    @property
    def recorded(self) -> str:
        """Where the failures its tests found went, and which came from other requirements' tests ("" if none)."""
        parts = [f"{failed_deliveries(n)} recorded under {r}" for r, n in self.recorded_under.items()]
        parts += [f"{failed_deliveries(n)} found by the {r} scenario" for r, n in self.found_by.items()]
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        """For the JSON summary (``state`` is the status: the summary's field name)."""
        return {
            "id": self.id,
            "level": self.level,
            "title": self.title,
            "state": self.status,
            "shown": self.shown,
            "reason": self.reason,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "not_checked": self.not_checked,
            "not_run": self.not_run,
            "failures": self.failures,
            "warnings": self.warnings,
            "recorded_under": self.recorded_under,
            "found_by": self.found_by,
        }


@dataclass(frozen=True)
class CoverageFigures:
    """The run's coverage matrix: every cell with its counts, and the gate (``--min-coverage``) if one was set."""

    cells: list[CellCount]
    minimum: float | None
    cost: float = 0.0  # seconds spent counting

    @property
    def exercised(self) -> int:
        """Cells exercised at least once."""
        return sum(c.exercised > 0 for c in self.cells)

    @property
    def percent(self) -> float:
        """The share of cells exercised, in percent."""
        return 100.0 * self.exercised / len(self.cells) if self.cells else 100.0

    @property
    def failed(self) -> list[CellCount]:
        """Cells exercised with at least one delivery not answered 200 (or a message stored wrong)."""
        return [c for c in self.cells if c.state == "failed"]

    @property
    def short(self) -> bool:
        """True when a gate was set and fewer cells were exercised than it asks for."""
        return self.minimum is not None and self.percent + 1e-9 < self.minimum

    def line(self) -> str:
        """One line: ``47 of 47 cells exercised`` and what else matters (cells failed, the gate)."""
        text = f"{self.exercised} of {len(self.cells)} cells exercised ({self.percent:.0f}%)"
        if self.failed:
            text += (
                f"; {len(self.failed)} with deliveries not answered right: "
                + ", ".join(c.cell.name for c in self.failed[:5])
                + (", ..." if len(self.failed) > 5 else "")
            )
        if self.minimum is not None:
            text += (
                f"; below --min-coverage {self.minimum:g}%" if self.short else f"; --min-coverage {self.minimum:g}% met"
            )
        return text

    def as_json(self) -> dict[str, Any]:
        """For the JSON summary: the totals, the gate, and every cell by group."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for count in self.cells:
            groups.setdefault(count.cell.group, []).append(count.as_json())
        return {
            "cells": len(self.cells),
            "exercised": self.exercised,
            "percent": round(self.percent, 1),
            "failed": len(self.failed),
            "min_coverage": self.minimum,
            "met": not self.short,
            "cost_s": round(self.cost, 3),
            "groups": [{"group": name, "cells": cells} for name, cells in groups.items()],
        }


@dataclass
class Summary:
    """Everything the output files say about a run."""

    run: Run
    results: list[TestResult] = field(default_factory=list)
    interrupted: bool = False
    internal_error: str = ""
    finished: float = 0.0
    selection: Selection = field(default_factory=Selection)
    planned: int = 0
    output_files: dict[str, str] = field(default_factory=dict)  # what each is ("HTML report") -> its path
    reproductions: dict[tuple[str, int | None, str], str] = field(default_factory=dict)  # cause key -> script path

    def add(self, result: TestResult) -> None:
        """Record one finished suite test."""
        self.results.append(result)

    @property
    def strict(self) -> bool:
        """Whether SHOULD failures and warnings fail the run."""
        return self.run.options.strict

    @property
    def failures(self) -> list[Finding]:
        """Every failure of every test."""
        out = [f for r in self.results for f in r.findings]
        # a test that failed without findings (an unexpected error) still counts
        out += [
            Finding(r.requirement, "internal", "Test error", r.message, r.name)
            for r in self.results
            if r.outcome == "error" and not r.findings
        ]
        return out

    @property
    def warnings(self) -> list[Finding]:
        """Every warning of every test."""
        return [w for r in self.results for w in r.warnings]

    def failures_at(self, level: str) -> list[Finding]:
        """The failures recorded under requirements of this level."""
        return [f for f in self.failures if level_of(f.requirement) == level]

    @property
    def judged(self) -> bool:
        """True when at least one test judged the receiver on deliveries (passed or failed)."""
        return any(r.outcome in {"passed", "failed"} for r in self.results)

    @property
    def problem(self) -> str:
        """Why the run could not judge the receiver ("" when it could): never conformant on no evidence."""
        if self.internal_error:
            return self.internal_error
        if not self.results:
            return "no check ran: the selection matched none"
        errors = [r for r in self.results if r.outcome == "error" and not r.findings]
        if errors:
            return f"a check raised an unexpected error ({errors[0].title})"
        if not self.judged:
            reasons = sorted({_reason(r.message) for r in self.results})
            return "nothing was judged: every selected check was not checked (" + "; ".join(reasons) + ")"
        return ""

    def required_not_checked(self) -> list[RequirementRow]:
        """The requirements ``--require-checked`` names that this run did not check (not checked, or not run)."""
        wanted = set(self.run.options.require_checked)
        return [row for row in self.by_requirement() if row.id in wanted and row.status in {"not_checked", "not_run"}]

    def unjudged_related(self) -> dict[str, list[str]]:
        """Per requirement this run judged, the related ones whose stored-state checks would also judge its
        deliveries but that the selection left out (selecting the retries leaves processed-once and newest-wins
        unjudged)."""
        if self.run.ledger is None:  # without a reader nothing is judged on the stored state anyway
            return {}
        rows = {row.id: row for row in self.by_requirement()}
        out: dict[str, list[str]] = {}
        for requirement in CATALOGUE:
            if rows[requirement.id].status == "not_run":
                continue
            missing = [rid for rid in requirement.judged_also_by if rows[rid].status == "not_run"]
            if missing:
                out[requirement.id] = missing
        return out

    def coverage(self) -> CoverageFigures:
        """What the deliveries exercised (the stored-state cells only with a state reader), and the gate."""
        run = self.run
        return CoverageFigures(
            run.coverage.counts(
                with_reader=run.ledger is not None,
                with_preparer=run.preparer is not None,
                with_status_map=run.status_map is not None,
            ),
            run.options.min_coverage,
            run.coverage.seconds,
        )

    @property
    def verdict(self) -> Verdict:
        """conformant, conformant_with_warnings, not_conformant, interrupted or error."""
        if self.interrupted:
            return Verdict.INTERRUPTED
        if self.problem:
            return Verdict.ERROR
        if self.failures_at("MUST") or self.coverage().short or self.required_not_checked():
            return Verdict.NOT_CONFORMANT
        lesser = bool(self.failures_at("SHOULD") or self.warnings)
        if lesser and self.strict:
            return Verdict.NOT_CONFORMANT
        return Verdict.CONFORMANT_WITH_WARNINGS if lesser else Verdict.CONFORMANT

    @property
    def exit_code(self) -> ExitCode:
        """0 conformant (warnings allowed), 1 not conformant, 2 interrupted, 3 error."""
        return self.verdict.exit_code

    @property
    def complete(self) -> bool:
        """True when every requirement of the catalogue was run (not checked counts as run; deselected does not)."""
        return not self.selection.deselected and all(row.status != "not_run" for row in self.by_requirement())

    def banner(self) -> str:
        """The verdict as the banner shows it: ``CONFORMANT``, ``CONFORMANT (PARTIAL)``, ..."""
        text = self.verdict.text
        if self.verdict in (Verdict.ERROR, Verdict.INTERRUPTED):
            return text
        parts = [] if self.complete else ["PARTIAL"]
        unchecked = _grouped(r for r in self.by_requirement() if r.status == "not_checked" and r.level == "MUST")
        if unchecked:
            parts.append("not checked: " + "; ".join(f"{ids}: {_short(reason)}" for ids, reason in unchecked))
        return f"{text} ({'; '.join(parts)})" if parts else text

    @property
    def security_note(self) -> str:
        """The note every output carries when the run has no credentials ("" when it has, or for the bundled
        receiver); it does not lower the verdict: a receiver may be reachable only from the platform."""
        run = self.run
        return "" if run.embedded or run.credentials else SECURITY_NOTE

    def causes(self) -> list[Cause]:
        """The failures grouped by cause, MUST causes first, then the largest (each with its reproduction script,
        once written)."""
        causes = group_causes(self.failures)
        for cause in causes:
            cause.repro = self.reproductions.get(cause.key, "")
        return causes

    def write_reproductions(self, directory: str | os.PathLike[str]) -> None:
        """One runnable script per cause, ``<n>-<cause>.sh`` in ``directory``: its first finding's reproduction."""
        folder = Path(directory)
        with contextlib.suppress(OSError):
            for old in folder.glob("*.sh"):  # a previous run's
                old.unlink()
        for number, cause in enumerate(self.causes(), 1):
            script = next((f.repro for f in cause.findings if f.repro), "")
            if not script:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", cause.title.lower()).strip("-")[:60]
            path = folder / f"{number}-{slug}.sh"
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(script, encoding="utf-8")
            path.chmod(0o755)
            self.reproductions[cause.key] = str(path)

    def explanation(self) -> str:
        """A few sentences that say why the verdict is what it is."""
        verdict = self.verdict
        total = len(self.results)
        rows = self.by_requirement()
        if verdict == Verdict.INTERRUPTED:
            return f"The run was interrupted after {total} checks; what ran so far is reported below."
        if verdict == Verdict.ERROR:
            return f"dlr-conformance could not judge the receiver: {self.problem.rstrip('.')}."
        failed = {lvl: [r.id for r in rows if r.status == "failed" and r.level == lvl] for lvl in ("MUST", "SHOULD")}
        warned = len(self.warnings)
        parts: list[str] = []
        unchecked = self.required_not_checked()
        if unchecked:
            why = "; ".join(f"{r.id}: {r.reason or r.shown}" for r in unchecked)
            parts.append(
                f"--require-checked: {ids_text(r.id for r in unchecked)} not checked, so the run fails ({why})."
            )
        if failed["MUST"]:
            parts.append(f"{_n(len(failed['MUST']), 'MUST requirement')} failed: {', '.join(failed['MUST'])}.")
        else:
            counts = self.counts()
            parts.append(f"Every MUST requirement passed ({_n(counts['passed'], 'check')} passed).")
        if failed["SHOULD"]:
            parts.append(
                f"{_n(len(failed['SHOULD']), 'recommendation')} (SHOULD) failed: {', '.join(failed['SHOULD'])}."
            )
        if warned:
            parts.append(f"{_n(warned, 'warning')} to look at.")
        coverage = self.coverage()
        if coverage.short:
            parts.append(
                f"Coverage below the gate: {coverage.exercised} of {len(coverage.cells)} cells exercised "
                f"({coverage.percent:.0f}%), fewer than --min-coverage {coverage.minimum:g}% asks for."
            )
        if self.strict and verdict == Verdict.NOT_CONFORMANT and not failed["MUST"] and not coverage.short:
            parts.append("--strict: a failed SHOULD requirement or a warning fails the run.")
        causes = self.causes()
        if causes and len(causes[0].requirements) > 1 and len(causes[0].findings) * 2 >= len(self.failures):
            top = causes[0]
            parts.append(
                f"One cause leads: {top.title}"
                + (f" ({top.status})" if top.status else "")
                + f", in {top.count_text('failed')} across "
                f"{', '.join(top.requirements)}; fix it first, the rest may follow."
            )
        not_checked = [f"{ids} ({reason})" for ids, reason in _grouped(r for r in rows if r.status == "not_checked")]
        if not_checked:
            parts.append(f"Not checked: {'; '.join(not_checked)}.")
        for rid, related in self.unjudged_related().items():
            wanted = " or ".join([rid, *related])
            parts.append(
                f"What {rid}'s deliveries left in the receiver's store is judged by {ids_text(related)}, which this "
                f"selection leaves unjudged (select them too: -k '{wanted}')."
            )
        if not self.complete:
            not_run = [r.id for r in rows if r.status == "not_run"]
            what = f"{', '.join(not_run)} not run" if not_run else "some tests of the selected requirements not run"
            selection = self.selection.describe() or "the tests given"
            parts.append(f"PARTIAL run ({selection}): {what}; the verdict covers only what ran.")
        return " ".join(parts)

    def counts(self) -> dict[str, int]:
        """How many tests ended in each outcome (skipped: not checked)."""
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for r in self.results:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    def by_requirement(self) -> list[RequirementRow]:
        """One row per requirement of the catalogue: level, title, tests, counts, status and its reason."""
        rows = []
        failures = self.failures
        for req in CATALOGUE:
            mine = [r for r in self.results if r.requirement == req.id]
            failed_findings = [f for f in failures if f.requirement == req.id]
            warnings = [w for w in self.warnings if w.requirement == req.id]
            deselected = [name for name, rid in self.selection.deselected if rid == req.id]
            not_checked = [r for r in mine if r.outcome == "skipped"]
            reason = ""
            if failed_findings:
                status = "failed"
            elif warnings:
                status = "warnings"
            elif any(r.outcome in {"passed", "failed"} for r in mine):
                status = "passed"
            elif mine:
                status = "not_checked"
                reason = "; ".join(sorted({_reason(r.message) for r in not_checked}))
            else:
                status = "not_run"
                reason = "deselected" + (f" by {self.selection.describe()}" if self.selection.describe() else "")
                if not deselected:
                    reason = "no test of it in this run"
            if status != "not_checked" and not_checked:
                reason = "; ".join(sorted({_reason(r.message) for r in not_checked}))
            recorded_under: dict[str, int] = {}
            for result in mine:
                for rid, n in result.recorded_under.items():
                    recorded_under[rid] = recorded_under.get(rid, 0) + n
            found_by: dict[str, int] = {}
            for result in self.results:
                if req.id in result.recorded_under and result.requirement != req.id:
                    found_by[result.requirement] = found_by.get(result.requirement, 0) + result.recorded_under[req.id]
            rows.append(
                RequirementRow(
                    id=req.id,
                    level=req.level,
                    title=req.title,
                    status=status,
                    reason=reason,
                    tests=len(mine),
                    passed=sum(r.outcome == "passed" for r in mine),
                    failed=sum(r.outcome in {"failed", "error"} for r in mine),
                    not_checked=len(not_checked),
                    not_run=len(deselected),
                    failures=len(failed_findings),
                    warnings=len(warnings),
                    recorded_under=recorded_under,
                    found_by=found_by,
                )
            )
        return rows

    def options(self) -> dict[str, Any]:
        """The options that change what is judged, as every output file records them."""
        o = self.run.options
        return {
            "strict": o.strict,
            "selection": self.selection.describe() or None,
            "keyword": self.selection.keyword or None,
            "requirements": list(self.selection.requirements),
            "require_checked": list(o.require_checked),
            "examples": o.examples,
            "max_rps": o.max_rps,
            "concurrency": o.concurrency,
            "timeout_s": o.timeout,
            "latency_budget_s": o.latency_budget,
            "retry_interval_s": o.retry_interval,
            "public_params": list(o.public_params),
        }

    def options_text(self) -> str:
        """The options of :meth:`options` on one line."""
        o = self.run.options
        parts = [f"examples {o.examples}", f"timeout {o.timeout:g} s", f"latency budget {o.latency_budget:g} s"]
        parts.append(f"concurrency {o.concurrency}")
        if o.public_params:
            parts.append(f"public query parameters {', '.join(o.public_params)}")
        parts.append(f"rate cap {o.max_rps:g}/s" if o.max_rps else "no rate cap")
        parts.append("strict" if o.strict else "not strict (SHOULD failures and warnings do not fail the run)")
        parts.append(f"selection {self.selection.describe()}" if self.selection.describe() else "every check")
        return ", ".join(parts)

    def sent_text(self) -> str:
        """Requests sent, against those announced, and why fewer were sent."""
        sent = self.run.requests_sent
        text = str(sent)
        if self.planned:
            text += f" of {self.planned} planned"
        if self.run.not_sent:
            text += " (not sent: " + ", ".join(f"{n} because {why}" for why, n in self.run.not_sent.items()) + ")"
        return text

    def header(self) -> dict[str, str]:
        """The facts at the top of every output file (target masked)."""
        run = self.run
        lat = run.latency_figures()

        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v * 1000:.1f} ms"

        facts = {
            "Target": run.masked_url + (" (the bundled reference receiver)" if run.embedded else ""),
            "Date": dt.datetime.fromtimestamp(run.started, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "Tool": f"dlr-conformance {__version__}",
            "Schema": contract.schema_version(),
            "Seed": str(run.seed),
            "Run id": run.run_id,
            "Options": self.options_text(),
            "Coverage": "complete: every requirement was run"
            if self.complete
            else f"PARTIAL: {self.selection.describe() or 'a selection of tests'}",
            "Contract coverage": self.coverage().line(),
            "Requests sent": self.sent_text(),
            "Latency p50 / p95 / max": f"{ms(lat['p50'])} / {ms(lat['p95'])} / {ms(lat['max'])}",
            "Stored state": run.stored_state_line(),
            **({"State commands": line} if (line := run.state_commands_line()) else {}),
        }
        if self.security_note:
            facts["Security"] = self.security_note
        return facts

    def to_json(self) -> dict[str, Any]:
        """The JSON summary document."""
        run = self.run
        rows = self.by_requirement()
        return {
            "verdict": self.verdict,
            "complete": self.complete,
            "strict": self.strict,
            "banner": self.banner(),
            "explanation": self.explanation(),
            "tool": {"name": "dlr-conformance", "version": __version__},
            "schema": contract.schema_version(),
            "target": run.masked_url,
            "embedded_receiver": run.embedded,
            "run_id": run.run_id,
            "seed": run.seed,
            "options": self.options(),
            "not_run": [r.id for r in rows if r.status == "not_run"],
            "required_not_checked": [r.id for r in self.required_not_checked()],
            "unjudged_related": self.unjudged_related(),
            "started": dt.datetime.fromtimestamp(run.started, dt.UTC).isoformat(),
            "duration_s": round((self.finished or run.started) - run.started, 3),
            "requests_planned": self.planned,
            "requests_sent": run.requests_sent,
            "requests_not_sent": dict(run.not_sent),
            "latency_s": run.latency_figures(),
            "tests": self.counts(),
            "requirements": [r.as_json() for r in rows],
            "coverage": self.coverage().as_json(),
            "causes": [_cause(c) for c in self.causes()],
            "failure_count": len(self.failures),
            "failures": [_finding(f) for c in self.causes() for f in _listed(c)],
            "warning_count": len(self.warnings),
            "warnings": [_finding(w) for c in group_causes(self.warnings) for w in _listed(c)],
            "secrets": "Secrets are shown as ***: in a reproduction, put each value back (header values, the URL's "
            "password and query values) before running it.",
            "api_job_ids": list(run.api_job_ids),
            "api_job_ids_file": run.ids_file_written(),  # every id, when there were too many to list here
            "latency_estimated": run.latencies.estimated,
            "stored_state": run.stored_state_line(),
            "state_commands": run.state_commands(),
            "security_note": self.security_note or None,
            "internal_error": self.problem or None,
        }

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON summary (atomically)."""
        write_json(path, self.to_json())


def _n(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _grouped(rows: Iterable[RequirementRow]) -> list[tuple[str, str]]:
    """Requirements by the reason they were not checked: each reason said once, with its IDs as ids_text writes them."""
    by_reason: dict[str, list[str]] = {}
    for row in rows:
        by_reason.setdefault(row.reason.removeprefix("not checked: "), []).append(row.id)
    return [(ids_text(ids), reason) for reason, ids in by_reason.items()]


def _short(reason: str) -> str:
    """A reason's first clause, for the headline (the explanation says it whole)."""
    reason = reason.removeprefix("not applicable: ")
    return re.split(r", | \(|; ", reason, maxsplit=1)[0]


def _reason(message: str) -> str:
    """A skip message as the reason a requirement was not checked."""
    text = re.sub(r"^Skipped: ", "", message.strip()).strip()
    return text or "not checked"


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "requirement": finding.requirement,
        "level": level_of(finding.requirement),
        "check": finding.check,
        "title": finding.title,
        "status": finding.status,
        "case": finding.case,
        "message": finding.message,
    }


def _listed(cause: Cause) -> list[Finding]:
    """A bounded list of a cause's findings: the first under each requirement it hits, then more up to the cap."""
    first: dict[str, Finding] = {}
    for finding in cause.findings:
        first.setdefault(finding.requirement, finding)
    listed = list(first.values())
    chosen = {id(f) for f in listed}
    listed += [f for f in cause.findings if id(f) not in chosen][: max(0, LISTED_PER_CAUSE - len(listed))]
    return listed


def _cause(cause: Cause) -> dict[str, Any]:
    return {
        "title": cause.title,
        "status": cause.status,
        "level": cause.level,
        "count": cause.count,
        "unit": cause.unit,
        "reproduction": cause.repro or None,
        "requirements": cause.requirements,
        "checks": sorted({f.check for f in cause.findings}),
        "received": cause.received,
        "examples": [
            {"requirement": f.requirement, "case": f.case, "message": f.message, "curl": f.curl}
            for f in cause.findings[:CAUSE_EXAMPLES]
        ],
    }
