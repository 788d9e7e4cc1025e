"""The job summary of the dlr-conformance GitHub Action: the verdict and the failed requirements, as Markdown.

Read from the JSON summary the run wrote (``reports/summary.json``; its fields: docs/reference/reports.md) and the
tool's exit code (``DLR_EXIT_CODE``, empty when the run did not start) and the artifact's name (``DLR_ARTIFACT``);
printed on stdout, which the action appends
to ``$GITHUB_STEP_SUMMARY``. Standard library only, and no newer Python than the runner's ``python3``: it also runs
when installing the tool failed. Everything in the JSON summary is already masked (the target's credentials, header
values); text that came from the receiver is not shown here, only the tool's own titles and the status code.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ICON = {
    "conformant": ":white_check_mark:",
    "conformant_with_warnings": ":warning:",
    "not_conformant": ":x:",
}
WITHOUT_SUMMARY = {
    "": "The run did not start: an earlier step of the action failed (its log says why).",
    "2": "The run was interrupted before it wrote its summary.",
    "3": "The tool failed before it wrote its summary (exit code 3); the step's log shows the error.",
    "4": "Usage error (exit code 4): a bad input or option; the run step's log names it in one line. Nothing was sent.",
}


def code(text: object) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    text = str(text).replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: object) -> str:
    """``text`` in a Markdown table cell."""
    return str(text).replace("\n", " ").replace("|", "\\|")


def failed_requirements(summary: dict[str, Any]) -> list[str]:
    """The table of the requirements that failed, MUST and SHOULD, in the catalogue's order."""
    rows = [r for r in summary.get("requirements", []) if r.get("state") == "failed"]
    if not rows:
        return []
    lines = [
        "| requirement | level | what it asks | failed deliveries |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['id']} | {r['level']} | {cell(r['title'])} | {r.get('failures', 0)} |" for r in rows]
    return lines


def causes(summary: dict[str, Any]) -> list[str]:
    """Each cause of failure once: its title, the status, how many deliveries, the requirements it hits."""
    lines = []
    for number, cause in enumerate(summary.get("causes", []), 1):
        status = f" [{cause['status']}]" if cause.get("status") is not None else ""
        count = cause.get("count", 0)
        hit = ", ".join(cause.get("requirements", []))
        deliveries = "delivery" if count == 1 else "deliveries"
        lines.append(f"{number}. {cell(cause['title'])}{status}: {count} {deliveries}; {hit}")
    return lines


def coverage(summary: dict[str, Any]) -> list[str]:
    """The contract's coverage, as the console says it: ``97 of 97 coverage cells exercised`` (none if absent)."""
    figures = summary.get("coverage")
    if not isinstance(figures, dict):
        return []
    text = f"{figures.get('exercised', 0)} of {figures.get('cells', 0)} coverage cells exercised"
    if figures.get("min_coverage") is not None:
        text += f" (--min-coverage {figures['min_coverage']:g}%: {'met' if figures.get('met') else 'not met'})"
    return [text]


def markdown(summary: dict[str, Any] | None, exit_code: str, artifact: str) -> str:
    """The job summary for one run of the action."""
    if summary is None:
        reason = WITHOUT_SUMMARY.get(exit_code, f"The tool exited {exit_code} without writing its summary.")
        return f"## dlr-conformance: no verdict\n\n{reason}\n"
    verdict = summary.get("verdict", "error")
    out = [f"## dlr-conformance: {ICON.get(verdict, ':exclamation:')} {summary.get('banner', verdict)}", ""]
    out += [summary.get("explanation", ""), ""]
    if summary.get("security_note"):  # a run without credentials: anyone who learns the URL can forge reports
        out += [f"**Security:** {summary['security_note']}", ""]
    failed = failed_requirements(summary)
    if failed:
        out += ["### Failed requirements", "", *failed, ""]
        out += ["Each cause of failure once:", "", *causes(summary), ""]
    facts = [
        f"target {code(summary.get('target', ''))}",
        f"seed {code(summary.get('seed', ''))}",
        f"run id {code(summary.get('run_id', ''))}",
        f"{summary.get('requests_sent', 0)} of {summary.get('requests_planned', 0)} requests sent",
        *coverage(summary),
        f"exit code {exit_code}",
    ]
    out += ["; ".join(facts) + ".", ""]
    out += [
        f"The reports (report.html, junit.xml, summary.json) are in the artifact {code(artifact)}; "
        "to reproduce the run, give the same seed.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """Print the job summary of the run whose JSON summary is ``argv[1]``."""
    exit_code = os.environ.get("DLR_EXIT_CODE", "")
    path = Path(argv[1] if len(argv) > 1 else "reports/summary.json")
    summary = None
    if exit_code and path.is_file():  # without an exit code the run did not start: a summary there is an old one
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            summary = None
    sys.stdout.write(markdown(summary, exit_code, os.environ.get("DLR_ARTIFACT", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
