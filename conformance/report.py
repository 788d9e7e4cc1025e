"""The HTML conformance report: pytest-html hooks that put the verdict and the evidence in front.

Registered by the plugin only when pytest-html is loaded and the suite is active. pytest-html 4 renders its
table in the browser from embedded JSON, so everything here is plain HTML strings it embeds; every string is
escaped here and was masked by the run before it got here.
"""

from __future__ import annotations

import html
from collections.abc import Generator
from typing import Any

import pytest

from conformance.run import Evidence
from conformance.summary import VERDICT_TEXT, Summary, TestResult

__all__ = ["HtmlReport"]

_COLOURS = {"conformant": "#1a7f37", "conformant_with_warnings": "#9a6700", "not_conformant": "#cf222e",
            "interrupted": "#57606a", "error": "#cf222e"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def evidence_html(result: TestResult) -> str:
    """The evidence of one test as an HTML fragment: notes, then each kept exchange."""
    parts = ['<div class="dlr-evidence">']
    for note in result.notes:
        parts.append(f"<p>{_e(note)}</p>")
    for ev in result.evidence:
        parts.append(_exchange_html(ev))
    parts.append("</div>")
    return "".join(parts)


def _exchange_html(ev: Evidence) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in ev.response_headers.items())
    out = [f"<details{' open' if ev.problems else ''}><summary><b>{_e(ev.label or 'delivery')}</b>: "
           f"{_e(ev.status)} in {ev.latency * 1000:.1f} ms</summary>"]
    for problem in ev.problems:
        out.append(f'<p class="dlr-problem">{_e(problem)}</p>')
    out.append(f"<p>Request body:</p><pre>{_e(ev.request_body)}</pre>")
    out.append(f"<p>Response headers:</p><pre>{_e(headers or '(none)')}</pre>")
    out.append(f"<p>Response body:</p><pre>{_e(ev.response_body or '(empty)')}</pre>")
    if ev.curl:
        out.append(f"<p>Reproduce:</p><pre>{_e(ev.curl)}</pre>")
    out.append("</details>")
    return "".join(out)


class HtmlReport:
    """pytest-html hooks for one conformance run."""

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def pytest_configure(self, config: pytest.Config) -> None:
        self._metadata(config)

    def _metadata(self, config: pytest.Config) -> None:
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pragma: no cover - pytest-metadata comes with pytest-html
            return
        metadata = config.stash.get(metadata_key, None)
        if metadata is not None:
            metadata.update(self.summary.header())

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "Delivery-report callback conformance"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        s = self.summary
        verdict = s.verdict
        prefix.append(
            f'<div id="dlr-verdict" data-verdict="{verdict}" style="font-size:1.6em;font-weight:bold;padding:.4em;'
            f'color:#fff;background:{_COLOURS[verdict]}">{VERDICT_TEXT[verdict]}</div>'
        )
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in s.header().items())
        counts = s.counts()
        rows += (f"<tr><th>Tests</th><td>{counts['passed']} passed, {counts['failed']} failed, "
                 f"{counts['skipped']} skipped, {counts['error']} errors</td></tr>")
        prefix.append(f'<table id="dlr-facts">{rows}</table>')
        req_rows = "".join(
            f'<tr class="dlr-req-{r["state"]}"><td>{_e(r["id"])}</td><td>{_e(r["level"])}</td><td>{_e(r["title"])}'
            f'</td><td>{r["tests"]}</td><td>{r["passed"]}</td><td>{r["failed"]}</td><td>{r["warnings"]}</td>'
            f'<td>{_e(r["state"].upper())}</td></tr>'
            for r in s.by_requirement()
        )
        prefix.append(
            '<h2>By requirement</h2><table id="dlr-requirements"><tr><th>ID</th><th>Level</th><th>Requirement</th>'
            f"<th>Tests</th><th>Passed</th><th>Failed</th><th>Warnings</th><th>State</th></tr>{req_rows}</table>"
        )
        if s.failures:
            items = "".join(f"<li><b>{_e(f.requirement)}</b> {_e(f.case)}: {_e(f.title)}</li>"
                            for f in s.failures[:50])
            prefix.append(f'<h2>Failures</h2><ul id="dlr-failures">{items}</ul>')

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="requirement">Requirement</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        requirement = dict(report.user_properties).get("requirement", "")
        cells.insert(1, f'<td class="col-requirement">{_e(requirement)}</td>')

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        result: TestResult | None = getattr(report, "dlr_result", None)
        if result is not None:
            from pytest_html import extras

            report.extras = [*getattr(report, "extras", []), extras.html(evidence_html(result))]
        return report
