"""The run summary: the verdict and the figures every report shows, and the JSON summary file.

Verdicts: ``conformant`` (every check passed), ``conformant_with_warnings`` (passed, but some answers were
over the latency budget), ``not_conformant`` (a check failed), ``interrupted`` (the run was stopped: what ran
so far is reported), ``error`` (dlr-conformance itself failed; exit code 3).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__, contract
from conformance.requirements import CATALOGUE
from conformance.run import Evidence, Finding, Run

__all__ = ["VERDICT_TEXT", "Summary", "TestResult"]

VERDICT_TEXT = {
    "conformant": "CONFORMANT",
    "conformant_with_warnings": "CONFORMANT WITH WARNINGS",
    "not_conformant": "NOT CONFORMANT",
    "interrupted": "INTERRUPTED",
    "error": "ERROR",
}


@dataclass
class TestResult:
    """One suite test as the reports show it."""

    nodeid: str
    name: str
    requirement: str
    outcome: str  # passed, failed, skipped, error
    duration: float = 0.0
    message: str = ""
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delivered: int = 0


@dataclass
class Summary:
    """Everything the reports say about a run."""

    run: Run
    results: list[TestResult] = field(default_factory=list)
    interrupted: bool = False
    internal_error: str = ""
    finished: float = 0.0

    def add(self, result: TestResult) -> None:
        """Record one finished suite test."""
        self.results.append(result)

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

    @property
    def problem(self) -> str:
        """Why the run could not judge the receiver ("" when it could): a receiver is never called conformant
        on no evidence."""
        if self.internal_error:
            return self.internal_error
        return "" if self.results else "no check ran: the selection matched none"

    @property
    def verdict(self) -> str:
        """conformant, conformant_with_warnings, not_conformant, interrupted or error."""
        if self.interrupted:
            return "interrupted"
        if self.problem or any(r.outcome == "error" and not r.findings for r in self.results):
            return "error"
        if any(r.outcome == "failed" for r in self.results):
            return "not_conformant"
        if self.warnings:
            return "conformant_with_warnings"
        return "conformant"

    def explanation(self) -> str:
        """One sentence that says why the verdict is what it is."""
        counts = self.counts()
        total = len(self.results)
        verdict = self.verdict
        if verdict == "interrupted":
            return f"The run was interrupted after {total} checks; what ran so far is reported below."
        if verdict == "error":
            return (
                f"dlr-conformance itself failed ({self.problem or 'a check raised an unexpected error'}), "
                "so the receiver could not be judged; see the errors below."
            )
        skipped = f", {counts['skipped']} skipped" if counts["skipped"] else ""
        if verdict == "not_conformant":
            failed = [row["id"] for row in self.by_requirement() if row["state"] == "failed"]
            return (
                f"{counts['failed'] + counts['error']} of {total} checks failed, against "
                f"{len(failed)} requirement{'s' if len(failed) != 1 else ''}: {', '.join(failed)}."
            )
        if verdict == "conformant_with_warnings":
            return (
                f"Every check passed ({counts['passed']} passed{skipped}), with {len(self.warnings)} "
                f"warning{'s' if len(self.warnings) != 1 else ''} to look at."
            )
        return f"Every check passed ({counts['passed']} passed{skipped})."

    def counts(self) -> dict[str, int]:
        """How many tests ended in each outcome."""
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for r in self.results:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    def by_requirement(self) -> list[dict[str, Any]]:
        """One row per requirement: level, title, tests, passed, failed, warnings, state."""
        rows = []
        for req in CATALOGUE:
            mine = [r for r in self.results if r.requirement == req.id]
            if not mine:
                continue
            failed = sum(r.outcome in {"failed", "error"} for r in mine)
            passed = sum(r.outcome == "passed" for r in mine)
            warned = sum(len(r.warnings) for r in mine)
            state = "failed" if failed else "warnings" if warned else "passed" if passed else "skipped"
            rows.append(
                {
                    "id": req.id,
                    "level": req.level,
                    "title": req.title,
                    "tests": len(mine),
                    "passed": passed,
                    "failed": failed,
                    "warnings": warned,
                    "state": state,
                }
            )
        return rows

    def header(self) -> dict[str, str]:
        """The facts at the top of every report (target masked)."""
        run = self.run
        lat = run.latency_figures()

        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v * 1000:.1f} ms"

        return {
            "Target": run.masked_url + (" (the bundled reference receiver)" if run.embedded else ""),
            "Date": dt.datetime.fromtimestamp(run.started, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "Tool": f"dlr-conformance {__version__}",
            "Schema": contract.schema_version(),
            "Seed": str(run.seed),
            "Run id": run.run_id,
            "Requests sent": str(run.requests_sent),
            "Latency p50 / p95 / max": f"{ms(lat['p50'])} / {ms(lat['p95'])} / {ms(lat['max'])}",
            "Stored state": run.state_line(),
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON summary document."""
        run = self.run
        return {
            "verdict": self.verdict,
            "explanation": self.explanation(),
            "tool": {"name": "dlr-conformance", "version": __version__},
            "schema": contract.schema_version(),
            "target": run.masked_url,
            "embedded_receiver": run.embedded,
            "run_id": run.run_id,
            "seed": run.seed,
            "started": dt.datetime.fromtimestamp(run.started, dt.UTC).isoformat(),
            "duration_s": round((self.finished or run.started) - run.started, 3),
            "requests_sent": run.requests_sent,
            "latency_s": run.latency_figures(),
            "tests": self.counts(),
            "requirements": self.by_requirement(),
            "failures": [_finding(f) for f in self.failures],
            "warnings": [_finding(w) for w in self.warnings],
            "api_job_ids": list(run.api_job_ids),
            "api_job_ids_file": run.ids_file_written(),  # every id, when there were too many to list here
            "latency_estimated": run.latencies.estimated,
            "stored_state": run.state_line(),
            "internal_error": self.problem or None,
        }

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON summary atomically (a temporary file renamed into place)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, target)


def _finding(finding: Finding) -> dict[str, str]:
    data = asdict(finding)
    return {
        "requirement": data["requirement"],
        "check": data["check"],
        "title": data["title"],
        "case": data["case"],
        "message": data["message"],
        "curl": data["curl"],
    }
