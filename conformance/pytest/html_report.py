"""The HTML conformance report: pytest-html hooks that put the verdict and the evidence in front.

Registered by the plugin only when pytest-html is loaded and the suite is active. The page a customer opens
reads, top to bottom: the verdict, the facts of the run, a table by requirement, the failures and warnings,
the test data to purge, then pytest-html's results table with a Requirement column and each test's evidence
in its expandable row; pytest-html's environment table moves to the bottom (a stylesheet reorders the page,
no script is added).

pytest-html 4 builds the results table and the environment table in the browser, inserting the HTML strings
it is given with ``innerHTML``; the summary above them is static HTML. So every string that reaches the page
is escaped here, the environment values included, and was masked by the run before it got here. Evidence is
bounded per test (a few passing samples, the failures up to a cap, bodies and headers cut), so a run of
thousands of generated payloads stays one row of modest size.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from conformance.engine.coverage import CellCount
from conformance.engine.run import Evidence
from conformance.reporting.summary import Cause, RequirementRow, Summary, TestResult, group_causes

__all__ = ["HtmlReport", "evidence_html"]

MAX_LISTED = 100  # failures or warnings listed at the top; the JSON summary has every one
MAX_HEADERS = 40
MAX_HEADER_VALUE = 300
MAX_CURL = 8000  # a longer curl command (a large batch) is cut in the HTML; the JSON summary has it whole
MAX_JOB_IDS = 2000  # api_job_ids listed in the HTML; the JSON summary has every one
_ENVIRONMENT_FACTS = ("Target", "Tool", "Schema", "Seed", "Run id")

_STYLE = """
body{display:flex;flex-direction:column;color:#57606a}
#environment-header{order:1}#environment{order:2;align-self:flex-start}footer{order:3}
.dlr{color:#1f2328;font-size:13px;max-width:1400px}
.dlr h2{margin:1.2em 0 .4em}
.dlr table{border-collapse:collapse;margin:.2em 0 .6em}
.dlr th,.dlr td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
.dlr thead th{background:#f6f8fa}
.dlr a{color:#0969da}
.dlr details>summary{cursor:pointer;margin:.3em 0}
.dlr code{background:#f6f8fa;padding:0 3px;border-radius:3px}
.dlr-verdict{color:#fff;padding:14px 18px;border-radius:6px;margin:.3em 0 .8em}
.dlr-verdict-word{font-size:28px;font-weight:bold;letter-spacing:.04em}
.dlr-verdict-why{font-size:15px;margin-top:4px}
.dlr-v-conformant{background:#1a7f37}.dlr-v-conformant_with_warnings{background:#9a6700}
.dlr-v-not_conformant,.dlr-v-error{background:#cf222e}.dlr-v-interrupted{background:#57606a}
.dlr-verdict.dlr-partial{background:repeating-linear-gradient(135deg,#57606a 0 14px,#6e7781 14px 28px)}
#dlr-facts{min-width:50%}
#dlr-facts th{background:#f6f8fa;white-space:nowrap;width:1%}
.dlr-num{text-align:right!important}
.dlr-badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:bold;color:#fff}
.dlr-b-passed{background:#1a7f37}.dlr-b-failed,.dlr-b-error{background:#cf222e}
.dlr-b-warnings,.dlr-b-warning,.dlr-b-failed-should{background:#9a6700}.dlr-b-skipped{background:#8c959f}
.dlr-b-failed-must{background:#cf222e}.dlr-b-not_checked,.dlr-b-not_run{background:#8c959f}
tr.dlr-req-failed td{background:#ffebe9}tr.dlr-req-warnings td,tr.dlr-req-failed-should td{background:#fff8c5}
tr.dlr-req-not_run td{color:#8c959f}
.dlr-more{color:#57606a;font-style:italic}
.dlr pre,.dlr-evidence pre{white-space:pre-wrap;word-break:break-all;margin:2px 0 6px;padding:6px 8px;
  background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;color:#1f2328;font-size:12px;
  max-height:320px;overflow:auto}
.dlr-evidence{color:#1f2328;font-size:12px;padding:2px 4px}
.dlr-evidence p{margin:4px 0}
.dlr-evidence h4{margin:6px 0 2px;font-size:12px}
.dlr-exchange{border:1px solid #d0d7de;border-radius:4px;margin:6px 0;padding:4px 8px;background:#fff}
.dlr-exchange>summary{cursor:pointer}
.dlr-ex-failed{border-color:#cf222e}
.dlr-problems{color:#cf222e;margin:4px 0}
.dlr-ex-grid{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.dlr-headline{color:#cf222e}
.dlr-cov-group{display:flex;gap:8px;align-items:flex-start;margin:3px 0}
.dlr-cov-group>h3{font-size:12px;margin:2px 0;width:120px;flex:none}
.dlr-cov{display:flex;flex-wrap:wrap;gap:3px}
.dlr-cell{display:inline-block;padding:1px 6px;border-radius:3px;font-size:11px;color:#fff;white-space:nowrap}
.dlr-c-passed{background:#2da44e}.dlr-c-failed{background:#d1242f}.dlr-c-not_exercised{background:#e6e9ed;color:#57606a}
table.dlr-pairs td,table.dlr-pairs th{padding:1px 3px;font-size:11px;border:none}
table.dlr-pairs .dlr-cell{min-width:44px;text-align:center}
.logwrapper:not(:has(.log)){display:none}
#results-table .col-testId,#results-table .col-requirement,#results-table .col-duration{color:#1f2328}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(state: str, text: str = "") -> str:
    return f'<span class="dlr-badge dlr-b-{_e(state)}">{_e(text or state.upper())}</span>'


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


# -- evidence of one test (inside its row) ----------------------------------------------------------------------
def evidence_html(result: TestResult) -> str:
    """The evidence of one test as an HTML fragment: the outcome, notes, then each kept exchange."""
    failed = sum(ev.failed for ev in result.evidence)
    passed = len(result.evidence) - failed
    kept = []
    if failed:
        kept.append(f"{failed} failing")
    if passed:
        kept.append(f"{passed} passing sample{'s' if passed != 1 else ''}")
    parts = ['<div class="dlr-evidence">']
    if result.delivered:
        line = f"{result.delivered} deliver{'ies' if result.delivered != 1 else 'y'} to the target"
        parts.append(f"<p><b>{_e(line)}</b>; evidence shown: {_e(', '.join(kept) or 'none')}.</p>")
    if result.outcome == "failed" and result.message:
        headline, _, rest = result.message.partition("\n")
        parts.append(f'<p class="dlr-headline"><b>{_e(headline)}</b></p>')
        if rest.strip():
            parts.append(
                f'<details class="dlr-message"><summary>The failure message (as in the JUnit report)'
                f"</summary><pre>{_e(result.message)}</pre></details>"
            )
    elif result.outcome == "skipped":
        parts.append(f"<p>{_badge('skipped')} {_e(result.message.removeprefix('Skipped: '))}</p>")
    parts.extend(f"<p>{_e(note)}</p>" for note in result.notes)
    first_problem = next((i for i, ev in enumerate(result.evidence) if ev.problems), None)
    parts.extend(_exchange_html(ev, open_=i == first_problem) for i, ev in enumerate(result.evidence))
    parts.append("</div>")
    return "".join(parts)


def _response_text(ev: Evidence) -> str:
    lines = [f"HTTP {ev.status}"]
    items = list(ev.response_headers.items())
    lines += [f"{name}: {_cap(value, MAX_HEADER_VALUE)}" for name, value in items[:MAX_HEADERS]]
    if len(items) > MAX_HEADERS:
        lines.append(f"… and {len(items) - MAX_HEADERS} more headers")
    lines += ["", ev.response_body or "(empty body)"]
    return "\n".join(lines)


def _exchange_html(ev: Evidence, *, open_: bool = False) -> str:
    state = "failed" if ev.failed else "warning" if ev.problems else "passed"
    took = f"read in {ev.latency * 1000:.1f} ms" if ev.stored else f"in {ev.latency * 1000:.1f} ms"
    out = [
        f'<details class="dlr-exchange dlr-ex-{state}"{" open" if open_ else ""}><summary>{_badge(state)} '
        f"<b>{_e(ev.label or 'delivery')}</b> — {_e(ev.status)} {took}</summary>"
    ]
    if ev.problems:
        out.append('<ul class="dlr-problems">' + "".join(f"<li>{_e(p)}</li>" for p in ev.problems) + "</ul>")
    if ev.stored:  # the state reader's row, not an answer of the receiver
        out.append(
            f'<div class="dlr-ex-grid"><div><h4>Reports sent</h4><pre class="dlr-request">{_e(ev.request_body)}'
            f"</pre></div><div><h4>Stored row (the state reader's, read in {ev.latency * 1000:.1f} ms)</h4>"
            f'<pre class="dlr-stored">{_e(ev.response_body)}</pre></div></div>'
        )
    else:
        out.append(
            f'<div class="dlr-ex-grid"><div><h4>Request body</h4><pre class="dlr-request">{_e(ev.request_body)}</pre>'
            f'</div><div><h4>Response (status, headers, body; capped)</h4><pre class="dlr-response">'
            f"{_e(_response_text(ev))}</pre></div></div>"
        )
    if len(ev.curl) > MAX_CURL:  # a large batch: the whole command would dominate the page
        out.append(
            f"<h4>Reproduce with curl</h4><p>The command is {len(ev.curl)} characters long; the JSON summary's "
            f'<code>failures[].curl</code> has it whole. Its start:</p><pre class="dlr-curl-cut">'
            f"{_e(ev.curl[:MAX_CURL])}…</pre>"
        )
    elif ev.curl:
        out.append(f'<h4>Reproduce with curl</h4><pre class="dlr-curl">{_e(ev.curl)}</pre>')
    out.append("</details>")
    return "".join(out)


# -- the summary at the top -----------------------------------------------------------------------------------
def _verdict_html(s: Summary) -> str:
    verdict = s.verdict
    partial = " dlr-partial" if not s.complete else ""
    return (
        f'<div id="dlr-verdict" class="dlr-verdict dlr-v-{verdict}{partial}" data-verdict="{verdict}" '
        f'data-complete="{str(s.complete).lower()}" data-strict="{str(s.strict).lower()}">'
        f'<div class="dlr-verdict-word">{_e(s.banner())}</div>'
        f'<div class="dlr-verdict-why">{_e(s.explanation())}</div></div>'
    )


def _facts_html(s: Summary) -> str:
    counts = s.counts()
    facts = dict(s.header())
    facts["Tests"] = (
        f"{len(s.results)}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} not checked, {counts['error']} errors"
        + (f"; {len(s.selection.deselected)} not run (deselected)" if s.selection.deselected else "")
    )
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts.items())
    return f'<table id="dlr-facts">{rows}</table>'


def _status_class(row: RequirementRow) -> str:
    return f"failed-{row.level.lower()}" if row.status == "failed" else row.status


def _requirements_html(s: Summary) -> str:
    rows = "".join(
        f'<tr class="dlr-req-{_e(_status_class(r))}" data-requirement="{_e(r.id)}" data-state="{_e(r.status)}" '
        f'data-tests="{r.tests}" data-failed="{r.failed}">'
        f"<td>{_e(r.id)}</td><td>{_e(r.level)}</td><td>{_e(r.title)}</td>"
        f'<td class="dlr-num">{r.tests}</td><td class="dlr-num">{r.passed}</td>'
        f'<td class="dlr-num">{r.failed}</td><td class="dlr-num">{r.warnings}</td>'
        f'<td class="dlr-reason">{_e("; ".join(filter(None, (r.reason, r.recorded))))}</td>'
        f"<td>{_badge(_status_class(r), r.shown.upper())}</td></tr>"
        for r in s.by_requirement()
    )
    return (
        '<h2>By requirement</h2><table id="dlr-requirements"><thead><tr><th>ID</th><th>Level</th>'
        "<th>Requirement</th><th>Tests</th><th>Passed</th><th>Failed</th><th>Warnings</th><th>Note</th>"
        f"<th>State</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _cell_html(count: CellCount, text: str) -> str:
    cell = count.cell
    unit = "messages" if count.cell.group == "stored state" else "deliveries"
    right = "stored right" if unit == "messages" else "answered 200"
    tip = f"{cell.meaning}: {count.exercised} {unit}, {count.right} {right}"
    shown = f"{count.right}/{count.exercised}" if count.exercised else "0"
    return (
        f'<span class="dlr-cell dlr-c-{count.state}" data-cell="{_e(cell.name)}" data-state="{count.state}" '
        f'data-exercised="{count.exercised}" data-right="{count.right}" title="{_e(tip)}">'
        f"{_e(text)}{' ' if text else ''}<b>{shown}</b></span>"
    )


def _coverage_html(s: Summary) -> str:
    """The coverage matrix: one line of cells per group, the status × type pairs as a grid."""
    coverage = s.coverage()
    groups: dict[str, list[CellCount]] = {}
    for count in coverage.cells:
        groups.setdefault(count.cell.group, []).append(count)
    parts = []
    for group, counts in groups.items():
        if group == "status × type":
            types = list(dict.fromkeys(c.cell.name.split(" × ")[0] for c in counts))
            statuses = list(dict.fromkeys(c.cell.name.split(" × ")[1] for c in counts))
            by_name = {c.cell.name: c for c in counts}
            head = "".join(f"<th>{_e(st)}</th>" for st in statuses)
            body = "".join(
                f"<tr><th>{_e(t)}</th>"
                + "".join(f"<td>{_cell_html(by_name[f'{t} × {st}'], '')}</td>" for st in statuses)
                + "</tr>"
                for t in types
            )
            inner = f'<table class="dlr-pairs"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
        else:
            inner = '<div class="dlr-cov">' + "".join(_cell_html(c, c.cell.name) for c in counts) + "</div>"
        parts.append(f'<div class="dlr-cov-group" data-group="{_e(group)}"><h3>{_e(group)}</h3>{inner}</div>')
    return (
        f'<h2>Coverage of the contract</h2><div id="dlr-coverage" data-cells="{len(coverage.cells)}" '
        f'data-exercised="{coverage.exercised}" data-met="{str(not coverage.short).lower()}">'
        f"<p>{_e(coverage.line())}. Each cell: answered 200 (stored right, for stored state) / exercised; green: "
        "every one right, red: some not, grey: not exercised; hover a cell for what it means "
        f"(docs/reference/coverage.md defines them all).</p>{''.join(parts)}</div>"
    )


def _causes_html(s: Summary, kind: str) -> str:
    """Each cause once (title and status): how many deliveries, the requirements it hits, one or two reproductions."""
    if kind == "warnings":
        causes = group_causes(s.warnings)
        heading = "Warnings" + (
            " (they fail this run: --strict)" if s.strict else " (allowed: they do not fail the run)"
        )
    else:
        level = "MUST" if kind == "failures" else "SHOULD"
        causes = [c for c in s.causes() if c.level == level]
        heading = (
            "Failures (MUST)"
            if level == "MUST"
            else "Failed recommendations (SHOULD)"
            + (": they fail this run (--strict)" if s.strict else ": warnings, not failures, unless --strict")
        )
    if not causes:
        return ""
    rows = "".join(_cause_row(cause) for cause in causes[:MAX_LISTED])
    total = sum(c.count for c in causes if c.unit == "delivery")
    messages = sum(c.count for c in causes if c.unit != "delivery")
    counted = [f"{total:,} deliver{'ies' if total != 1 else 'y'}"] if total or not messages else []
    counted += [f"{messages:,} message{'s' if messages != 1 else ''} stored wrongly"] if messages else []
    return (
        f"<h2>{_e(heading)}: {len(causes)} cause{'s' if len(causes) != 1 else ''}, {', '.join(counted)}</h2>"
        f'<table id="dlr-{kind}"><thead><tr><th>Cause</th><th>Status</th>'
        "<th>How many</th><th>Requirements</th><th>Detail (first seen)</th><th>Reproduce</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _cause_row(cause: Cause) -> str:
    examples: list[str] = []
    for finding in cause.findings:
        if finding.curl and len(examples) < 2 and all(finding.requirement not in e for e in examples):
            examples.append(
                f"<p>{_e(finding.requirement)} {_e(finding.case)}:</p>"
                f'<pre class="dlr-cause-curl">{_e(_cap(finding.curl, MAX_CURL))}</pre>'
            )
    detail = "\n".join(cause.findings[0].message.splitlines()[1:3]) or cause.findings[0].message
    script = next((f.repro for f in cause.findings if f.repro), "")
    if script:
        name = os.path.basename(cause.repro) if cause.repro else "reproduction script"
        examples.append(
            f"<details><summary>{_e(name)}</summary>"
            f'<pre class="dlr-repro">{_e(_cap(script, MAX_CURL * 4))}</pre></details>'
        )
    return (
        f"<tr><td>{_e(cause.title)}</td><td>{_e(cause.status or '')}</td>"
        f'<td class="dlr-num">{_e(cause.count_text())}</td><td>{_e(", ".join(cause.requirements))}</td>'
        f"<td><pre>{_e(_cap(detail, 600))}</pre></td><td>{''.join(examples)}</td></tr>"
    )


def _problem_rows(s: Summary, kind: str) -> list[tuple[TestResult, str, str, int]]:
    """(test, title, first detail line, how many deliveries) per distinct problem of each test."""
    rows = []
    for result in s.results:
        findings = result.findings if kind == "failures" else result.warnings
        grouped: dict[str, tuple[str, int]] = {}
        for finding in findings:
            lines = finding.message.splitlines()
            detail = next((line for line in lines if line.startswith("Received:")), lines[-1] if lines else "")
            first, count = grouped.get(finding.title, (detail, 0))
            grouped[finding.title] = (first, count + 1)
        if kind == "failures" and result.outcome == "error" and not findings:
            grouped["Test error"] = ((result.message.strip().splitlines() or [""])[-1], 1)
        rows += [(result, title, detail, count) for title, (detail, count) in grouped.items()]
    return rows


@dataclass
class _Problem:
    """One kind of failure or warning across the run."""

    detail: str  # as first seen
    requirements: set[str] = field(default_factory=set)
    tests: int = 0
    deliveries: int = 0


def _problems_html(s: Summary, kind: str) -> str:
    rows = _problem_rows(s, kind)
    if not rows:
        return ""
    # distinct problems first (a receiver that fails everything fails it the same way), then each test
    problems: dict[str, _Problem] = {}
    for result, title, detail, count in rows:
        problem = problems.setdefault(title, _Problem(detail))
        problem.requirements.add(result.requirement)
        problem.tests += 1
        problem.deliveries += count
    distinct = "".join(
        f"<tr><td>{_e(title)}</td><td>{_e(_cap(p.detail, 300))}</td><td>{_e(', '.join(sorted(p.requirements)))}</td>"
        f'<td class="dlr-num">{p.tests}</td><td class="dlr-num">{p.deliveries}</td></tr>'
        for title, p in list(problems.items())[:MAX_LISTED]
    )
    per_test = "".join(
        f'<tr><td>{_e(r.requirement)}</td><td><a href="#{_e(quote(r.nodeid, safe=":/[]-_."))}">{_e(r.case)}</a>'
        f"</td><td>{_e(title)}{_e(f' (×{count})') if count > 1 else ''}</td><td>{_e(_cap(detail, 300))}</td></tr>"
        for r, title, detail, count in rows[:MAX_LISTED]
    )
    if len(rows) > MAX_LISTED:
        per_test += (
            f'<tr><td colspan="4" class="dlr-more">… and {len(rows) - MAX_LISTED} more: the JSON summary '
            "lists every one.</td></tr>"
        )
    n_tests = len({r.nodeid for r, *_ in rows})
    total = len(s.failures if kind == "failures" else s.warnings)
    heading = "Failures" if kind == "failures" else "Warnings"
    del distinct  # the causes above show each problem once
    return (
        f'<details id="dlr-{kind}-by-test"{" open" if n_tests <= 10 else ""}><summary>{heading} by test '
        f"({total} in {n_tests} test{'s' if n_tests != 1 else ''})</summary><table><thead><tr><th>Requirement</th>"
        "<th>Test</th><th>Problem</th><th>Detail</th></tr></thead>"
        f"<tbody>{per_test}</tbody></table></details>"
    )


def _test_data_html(s: Summary) -> str:
    run = s.run
    ids = [run.redactor.mask(i) for i in run.api_job_ids]
    tagged = sum(i.startswith(f"dlrc-{run.run_id}-") for i in ids)
    listed = "\n".join(ids[:MAX_JOB_IDS])
    if len(ids) > MAX_JOB_IDS:
        listed += f"\n… and {len(ids) - MAX_JOB_IDS} more in the JSON summary"
    return (
        f'<h2>Test data</h2><div id="dlr-test-data"><p>Run id <code>{_e(run.run_id)}</code>: the callbacks of this '
        f"run used {len(ids)} api_job_id{'s' if len(ids) != 1 else ''}, {tagged} of them starting with "
        f"<code>dlrc-{_e(run.run_id)}-</code>. To purge the test data from the receiver, delete the reports "
        "with these api_job_ids; the JSON summary lists them all under <code>api_job_ids</code>.</p>"
        f'<details id="dlr-api-job-ids"><summary>Show the {len(ids)} api_job_ids</summary>'
        f"<pre>{_e(listed)}</pre></details></div>"
    )


def summary_html(s: Summary) -> list[str]:
    """The static HTML above pytest-html's results table."""
    return [
        f"<style>{_STYLE}</style>",
        f'<div class="dlr">{_verdict_html(s)}{_facts_html(s)}{_requirements_html(s)}{_coverage_html(s)}'
        f"{_causes_html(s, 'failures')}{_causes_html(s, 'recommendations')}{_causes_html(s, 'warnings')}"
        f"{_problems_html(s, 'failures')}{_problems_html(s, 'warnings')}{_test_data_html(s)}"
        f"<h2>Results</h2><p>One row per check; click a row to show or hide its evidence.</p>{_amended_html(s)}</div>",
    ]


def _amended_html(s: Summary) -> str:
    """The results failed at the end of the run, which the table below shows as they ran (passed, or absent)."""
    amended = [r for r in s.results if r.amended]
    if not amended:
        return ""
    items = "".join(f"<li><b>{_e(r.title)}</b>: failed: {_e(r.message)}</li>" for r in amended)
    return (
        '<div id="dlr-amended"><p>Failed at the end of the run, because a failure found by a later scenario is '
        "recorded under their requirement (the table below shows them as they ran):</p>"
        f"<ul>{items}</ul></div>"
    )


class HtmlReport:
    """pytest-html hooks for one conformance run: ``result_of`` finds the suite result a test report made."""

    def __init__(self, summary: Summary, result_of: Callable[[pytest.TestReport], TestResult | None]) -> None:
        self.summary = summary
        self.result_of = result_of

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # pytest-metadata fills its table in pytest_configure, pytest-html reads it in a trylast sessionstart
        self._metadata(session.config)

    def _metadata(self, config: pytest.Config) -> None:
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pragma: no cover - pytest-metadata comes with pytest-html
            return
        metadata = config.stash.get(metadata_key, None)
        if metadata is not None:
            # what is known before the run (not its counts); pytest-html inserts these values as HTML: escape them
            facts = self.summary.header()
            metadata.update({key: _e(facts[key]) for key in _ENVIRONMENT_FACTS if key in facts})

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "Delivery-report callback conformance"

    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        prefix.extend(summary_html(self.summary))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[:] = [cell for cell in cells if ">Links<" not in cell]  # the suite attaches no links
        cells.insert(1, '<th class="sortable" data-column-type="requirement">Requirement</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        cells[:] = [cell for cell in cells if 'class="col-links"' not in cell]
        requirement = dict(report.user_properties).get("requirement", "")
        result = self.result_of(report)
        if result is not None:  # requirement and case, not the installed path of the suite's module
            cells[:] = [
                f'<td class="col-testId" title="{_e(result.nodeid)}">{_e(result.title)}</td>'
                if 'class="col-testId"' in cell
                else cell
                for cell in cells
            ]
        cells.insert(1, f'<td class="col-requirement">{_e(requirement)}</td>')

    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        result = self.result_of(report)
        if result is not None and result.outcome in {"failed", "skipped"}:
            data.clear()  # the failure message or the skip reason is at the top of the evidence
        elif report.skipped and isinstance(report.longrepr, tuple):
            data[:] = [_e(report.longrepr[2])]  # the reason, not pytest's (path, line, reason) tuple
        elif data == ["No log output captured."]:
            data.clear()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        result = self.result_of(report)
        if result is not None:
            from pytest_html import extras

            report.extras = [*getattr(report, "extras", []), extras.html(evidence_html(result))]  # type: ignore[attr-defined]
        return report
