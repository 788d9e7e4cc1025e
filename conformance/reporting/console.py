"""The console's account of a run: each cause shown once, then the by-requirement table, then the verdict.

A receiver with one root cause (a 202 to everything) fails hundreds of deliveries across most requirements; the
console names that cause once, with how many deliveries it failed, the requirements it hits and one or two
reproductions, instead of one block per failed test. Failed MUST requirements, failed recommendations (SHOULD)
and warnings are kept apart. The verdict and the table come last, so they are what a terminal shows.
"""

from __future__ import annotations

import os
import textwrap

from conformance.reporting.summary import Cause, Summary, group_causes
from conformance.requirements import level_of

__all__ = ["verdict_lines"]

REPRODUCTIONS = 2  # per cause
WIDTH = 110


def _cause_lines(number: int, cause: Cause, *, quiet: bool) -> list[str]:
    requirements = ", ".join(f"{r} ({level_of(r)})" for r in cause.requirements)
    status = f" [{cause.status}]" if cause.status else ""
    head = f"{number}. {cause.title}{status}: {cause.count_text()}"
    if quiet:
        return [f"  {head}; {', '.join(cause.requirements)}"]
    first = cause.findings[0].message.splitlines()
    lines = [f"  {head}", f"     requirements: {requirements}"]
    if cause.repro:
        lines.append(f"     reproduce: sh {os.path.relpath(cause.repro)}")
    lines += [f"     {line}" for line in first[1:3]]  # Received: / Expected:
    shown = 0
    seen: set[str] = set()
    for finding in cause.findings:
        if shown == REPRODUCTIONS:
            break
        if not finding.curl or finding.requirement in seen:
            continue
        seen.add(finding.requirement)
        lines.append(f"     e.g. {finding.requirement} {finding.case}:")
        lines.append(f"       {finding.curl}")
        shown += 1
    return lines


def verdict_lines(summary: Summary, *, quiet: bool = False) -> list[str]:
    """The lines the console ends with; ``quiet``: fewer of them (one per cause, only the rows that need work)."""
    lines: list[str] = []
    causes = summary.causes()
    must = [c for c in causes if c.level == "MUST"]
    should = [c for c in causes if c.level == "SHOULD"]
    number = 0
    for heading, group in (
        ("Failures (MUST): each cause once", must),
        (
            "Failed recommendations (SHOULD): "
            + ("they fail this run (--strict)" if summary.strict else "warnings, not failures, unless --strict"),
            should,
        ),
    ):
        if not group:
            continue
        deliveries = sum(c.count for c in group if c.unit == "delivery")
        messages = sum(c.count for c in group if c.unit != "delivery")
        totals = [f"{deliveries:,} failed deliver{'ies' if deliveries != 1 else 'y'}"] if deliveries else []
        totals += [f"{messages:,} message{'s' if messages != 1 else ''} stored wrongly"] if messages else []
        lines.append(f"{heading}: {len(group)} cause{'s' if len(group) != 1 else ''}, {', '.join(totals)}")
        for cause in group:
            number += 1
            lines += _cause_lines(number, cause, quiet=quiet)
    # a test that passed but found failures recorded under other requirements says what it found too
    notes = [(r, note) for r in summary.results if r.outcome == "failed" or r.recorded_note for note in r.notes]
    if notes and not quiet:
        lines.append("Notes of the tests that found failures:")
        for result, note in notes:
            lines.append(f"  {result.title}:")
            lines.append(f"    {note}")
    warned = group_causes(summary.warnings)
    if warned:
        lines.append(
            f"Warnings: {len(summary.warnings)}"
            + (" (they fail this run: --strict)" if summary.strict else " (allowed; they do not fail the run)")
        )
        for cause in warned:
            first = cause.findings[0]
            detail = first.message.splitlines()[-1] if first.message else ""
            where = ", ".join(cause.requirements)
            lines.append(f"  - {cause.title}: {cause.count_text()} ({where})" + ("" if quiet else f"; e.g. {detail}"))
    if any(f.curl and "***" in f.curl for f in summary.failures) and not quiet:
        lines.append("Reproductions show secrets as ***: put each value back (header, password, query) to run them.")
    errors = [r for r in summary.results if r.outcome == "error" and not r.findings]
    if errors:
        lines.append("Errors: dlr-conformance could not judge these checks")
        for result in errors:
            text = [line.strip() for line in result.message.strip().splitlines() if line.strip()]
            lines.append(f"  {result.title}: {' '.join(text[-3:]) if text else 'an unexpected error'}")
    facts = summary.header()
    # the state commands' time is their own, shown apart from the receiver's latency
    keys = ["Target", "Seed", "Run id", "Options", "Requests sent", "Latency p50 / p95 / max"]
    keys += ["Stored state", "State commands"]
    # quiet keeps what changes what the verdict means: how the stored state was judged, or why it was not
    lines += [f"{key}: {facts[key]}" for key in keys if key in facts and (not quiet or key == "Stored state")]
    lines.append(f"coverage: {summary.coverage().line()}")
    if summary.security_note:
        lines.append(f"Security: {summary.security_note}")
    lines.append("Reports: " + ", ".join(f"{k}: {v}" for k, v in summary.output_files.items() if v))
    lines.append("By requirement:")
    for row in summary.by_requirement():
        if quiet and row.status == "passed":
            continue
        said = [row.reason] if row.reason and row.status in {"not_checked", "not_run"} else []
        said += [row.recorded] if row.recorded else []  # failures found by one scenario, recorded under another
        lines.append(f"  {row.id} {row.level:6} {row.shown:15} {row.title}" + "".join(f" -- {s}" for s in said))
    lines.append(f"verdict: {summary.banner()}")
    lines += textwrap.wrap(summary.explanation(), WIDTH, initial_indent="  ", subsequent_indent="  ")
    return lines
