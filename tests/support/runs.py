"""Runs of the conformance suite against a receiver, and the three reports each run writes.

:func:`run_suite` runs ``dlr-conformance`` in-process (:func:`tests.support.cli.invoke`) in a folder of its own;
:func:`start_suite` starts it as a process, for the tests where the process is the point (Ctrl-C, peak memory);
:func:`run_pytester` runs the same plugin the way a customer adds it to their own pytest. Each gives a
:class:`SuiteRun`: exit code, console output, and the reports, parsed. :meth:`SuiteRun.check_agreement` fails the
test if a report is missing or does not parse, or if they disagree (one JUnit test case per suite test, the same
failures as the JSON summary, the same verdict in the HTML, and for every requirement the same state in the JSON
summary, the HTML row, the console row, its JUnit test cases and, through pytester, pytest's own outcomes).
"""

from __future__ import annotations

import contextlib
import html as html_entities
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from conformance.options import OPTIONS
from tests.support.cli import Result, invoke
from tests.support.process import CLI, Finished, Process

__all__ = ["FAST", "UNHURRIED", "SuiteRun", "finish_suite", "plugin_args", "run_pytester", "run_suite", "start_suite"]

FAST = ("--examples", "30", "--retry-interval", "0")
"""Options that keep a self-test run short: few generated payloads, no pause between retries."""
UNHURRIED = ("--latency-budget", "10")
"""For runs that must show no warning and are not about latency: a budget (the default timeout) that a correct
receiver meets even on a loaded test machine, where an answer now and then waits seconds for a CPU."""

SUMMARY_FIELDS = ("verdict", "seed", "requests_sent", "latency_s", "failures", "warnings")
_HTML_ROW = re.compile(r'data-requirement="([^"]+)" data-state="([^"]+)" data-tests="(\d+)" data-failed="(\d+)"')
_MINIMAL = re.compile(r"Minimal failing payload \(([^)]*(?:\([^)]*\))?[^)]*)\): (\{.*\})")


@dataclass
class SuiteRun:
    """One finished run: exit code, console output, and where its three reports are (parsed on first use)."""

    code: int
    stdout: str
    stderr: str
    html_path: Path
    junit_path: Path
    json_path: Path
    elapsed: float = 0.0
    max_rss_kib: int = 0  # of the process, when the run was one
    lines: list[tuple[float, str]] = field(default_factory=list)  # stdout lines as they came, for a process
    target: str = ""
    pytest_outcomes: dict[str, int] | None = None  # pytest's own final counts, for a run through pytester

    @property
    def output(self) -> str:
        """The console output: standard output, then standard error."""
        return self.stdout + self.stderr

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The JSON summary."""
        data: dict[str, Any] = json.loads(self.json_path.read_text(encoding="utf-8"))
        return data

    @cached_property
    def junit(self) -> ET.Element:
        """The JUnit XML report, parsed."""
        return ET.parse(self.junit_path).getroot()

    @cached_property
    def html(self) -> str:
        """The HTML report as written."""
        return self.html_path.read_text(encoding="utf-8")

    def html_text(self) -> str:
        """The HTML report with entities resolved (pytest-html embeds its data as escaped JSON)."""
        return html_entities.unescape(self.html)

    def texts(self) -> dict[str, str]:
        """The three reports' text, by file name."""
        return {p.name: p.read_text(encoding="utf-8") for p in (self.html_path, self.junit_path, self.json_path)}

    def junit_text(self) -> str:
        """Every failure, error and skip message and text of the JUnit report."""
        parts = []
        for node in self.junit.iter():
            if node.tag in {"failure", "error", "skipped"}:
                parts += [node.get("message") or "", node.text or ""]
        return "\n".join(parts)

    # -- the verdict --------------------------------------------------------------------------------------------
    @property
    def verdict(self) -> str:
        """The JSON summary's verdict."""
        return str(self.summary["verdict"])

    @property
    def failures(self) -> list[dict[str, str]]:
        """The JSON summary's failures."""
        return list(self.summary["failures"])

    @property
    def warnings(self) -> list[dict[str, str]]:
        """The JSON summary's warnings."""
        return list(self.summary["warnings"])

    def states(self) -> dict[str, str]:
        """Each requirement's state in the JSON summary, by id."""
        return {row["id"]: row["state"] for row in self.summary["requirements"]}

    @property
    def failing_requirements(self) -> set[str]:
        """The requirements that at least one failure belongs to (the causes name every one; the list of
        failures is bounded)."""
        return {r for cause in self.summary["causes"] for r in cause["requirements"]}

    @property
    def checks(self) -> set[str]:
        """The checks that raised the failures."""
        return {check for cause in self.summary["causes"] for check in cause["checks"]}

    def testcases(self) -> dict[str, ET.Element]:
        """JUnit test cases by their short key: a contract case's id, else the test function's name."""
        return {_key(case.attrib["name"]): case for case in self.junit.iter("testcase")}

    def failed(self) -> set[str]:
        """Short keys of the suite tests that failed."""
        return {key for key, case in self.testcases().items() if _failed(case)}

    def passed(self) -> set[str]:
        """Short keys of the suite tests that passed."""
        return {key for key, case in self.testcases().items() if not _failed(case) and case.find("skipped") is None}

    def failure_text(self) -> str:
        """Everything the reports say about the failures: JSON messages and cases, JUnit failure texts, and what a
        test that passed says of the failures it found that are recorded under another requirement."""
        parts = [f"{f['case']}: {f['title']}\n{f['message']}" for f in self.failures]
        for case in self.junit.iter("testcase"):
            for element in (*case.findall("failure"), *case.findall("error")):
                parts.append(f"{element.attrib.get('message', '')}\n{element.text or ''}")
            parts += [element.text or "" for element in case.findall("system-out")]
        return "\n".join(parts)

    def minimal_payload(self) -> tuple[str, dict[str, Any]]:
        """How the generated check shrank its failure, and the minimal failing payload it shows."""
        match = _MINIMAL.search(self.failure_text())
        assert match is not None, f"no minimal failing payload in the reports:\n{self.failure_text()[:3000]}"
        return match.group(1), json.loads(match.group(2))

    def check_agreement(self) -> SuiteRun:
        """Each report exists and parses, and they agree; returns self."""
        for path in (self.html_path, self.junit_path, self.json_path):
            assert path.is_file(), f"{path.name} was not written (exit code {self.code}):\n{self.output[-3000:]}"
        missing = [name for name in SUMMARY_FIELDS if name not in self.summary]
        assert not missing, f"the JSON summary lacks {missing}"
        cases = list(self.junit.iter("testcase"))
        tests = self.summary["tests"]
        assert len(cases) == sum(tests.values()), "JUnit has not one test case per suite test"
        assert sum(_failed(case) for case in cases) == tests["failed"] + tests["error"]
        if self.summary["failures"]:
            assert any(case.find("failure") is not None for case in cases), "JUnit shows none of the failures"
        assert "<html" in self.html.lower(), "the HTML report is not HTML"
        assert f'data-verdict="{self.verdict}"' in self.html, "the HTML report does not show the JSON summary's verdict"
        if "coverage" in self.summary:  # the same cells exercised in every output
            coverage = self.summary["coverage"]
            said = f"{coverage['exercised']} of {coverage['cells']} cells exercised"
            assert f"coverage: {said}" in self.output, "the console does not show the JSON summary's coverage"
            assert f'data-exercised="{coverage["exercised"]}"' in self.html, "the HTML report's coverage differs"
            facts = {p.get("name"): p.get("value") for p in self.junit.iter("property")}
            assert said in facts.get("dlr-conformance.coverage", ""), "the JUnit file's coverage differs"
        self._check_requirements_agree(cases)
        return self

    def junit_requirement(self, case: ET.Element) -> str:
        """The requirement a JUnit test case belongs to (its user property ``requirement``)."""
        return next((p.get("value", "") for p in case.iter("property") if p.get("name") == "requirement"), "")

    def pytest_failed(self) -> set[str] | None:
        """Short keys of the tests pytest's short summary (``-r fE``, pytest's default) lists as FAILED or ERROR, for
        a run through pytester (None for the CLI's, which prints no such summary)."""
        if self.pytest_outcomes is None:
            return None
        failed = set()
        for line in self.output.splitlines():
            word, _, rest = line.partition(" ")
            if word in {"FAILED", "ERROR"} and "::" in rest:
                failed.add(_key(rest.split(" - ")[0].split("::")[-1]))
        return failed

    def _check_requirements_agree(self, cases: list[ET.Element]) -> None:
        """For every requirement, the JSON summary's entry, the HTML row, the console row and the JUnit test cases
        (and pytest's outcomes, through pytester) say the same: failed exactly when one of its tests failed."""
        rows = {row["id"]: row for row in self.summary["requirements"]}
        html_rows = {m[0]: m[1:] for m in _HTML_ROW.findall(self.html)}
        table = None  # the console's by-requirement table: the lines between its heading and the verdict
        if "By requirement:" in self.output:
            table = self.output.split("By requirement:")[-1].split("\nverdict:")[0].splitlines()
        for rid, row in rows.items():
            mine = [case for case in cases if self.junit_requirement(case) == rid]
            failed = sum(_failed(case) for case in mine)
            said = f"{rid}: the JSON summary says {row['state']} ({row['failed']} of {row['tests']} tests failed)"
            assert (len(mine), failed) == (row["tests"], row["failed"]), f"{said}; JUnit {failed} of {len(mine)}"
            assert (row["state"] == "failed") == (failed > 0), f"{said}; JUnit has {failed} failing test cases"
            if html_rows:
                html = (row["state"], str(row["tests"]), str(row["failed"]))
                assert html_rows.get(rid) == html, f"{said}; the HTML row {html_rows.get(rid)}"
            if table is not None:
                shown = [line for line in table if line.startswith(f"  {rid} ")]
                expected = f"  {rid} {row['level']:6} {row['shown']:15} "
                assert all(line.startswith(expected) for line in shown), f"{said}; the console {shown}"
                assert shown or row["state"] == "passed", f"{said}; the console has no row for it"
        pytest_failed = self.pytest_failed()
        if pytest_failed is not None:
            junit = {_key(case.attrib["name"]) for case in cases if _failed(case)}
            assert pytest_failed == junit, f"pytest failed {sorted(pytest_failed)}, JUnit {sorted(junit)}"
        if self.pytest_outcomes is not None:
            tests = self.summary["tests"]
            pytest_counts = (
                self.pytest_outcomes.get("passed", 0),
                sum(self.pytest_outcomes.get(k, 0) for k in ("failed", "errors")),
            )
            assert pytest_counts == (tests["passed"], tests["failed"] + tests["error"]), (
                f"pytest {self.pytest_outcomes}, JSON {tests}"
            )


def _key(name: str) -> str:
    return name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else name


def _failed(case: ET.Element) -> bool:
    return case.find("failure") is not None or case.find("error") is not None


def _paths(folder: Path, explicit: bool) -> tuple[Path, Path, Path]:
    if explicit:
        return folder / "out" / "report.html", folder / "out" / "junit.xml", folder / "out" / "summary.json"
    return folder / "reports" / "report.html", folder / "reports" / "junit.xml", folder / "reports" / "summary.json"


def _arguments(folder: Path, url: str | None, args: tuple[str, ...], explicit: bool) -> list[str]:
    html, junit, summary = _paths(folder, explicit)
    paths = ["--html", str(html), "--junitxml", str(junit), "--json", str(summary)] if explicit else []
    return [*(("--target-url", url) if url else ()), *args, *paths]


def _suite_run(folder: Path, url: str | None, done: Result, explicit: bool) -> SuiteRun:
    html, junit, summary = _paths(folder, explicit)
    extra: dict[str, Any] = {}
    if isinstance(done, Finished):
        extra = {"max_rss_kib": done.max_rss_kib, "lines": done.lines}
    return SuiteRun(done.code, done.stdout, done.stderr, html, junit, summary, done.elapsed, target=url or "", **extra)


def run_suite(
    folder: Path,
    url: str | None,
    *args: str,
    explicit: bool = True,
    agree: bool = True,
    limit: float = 600.0,
    env: Mapping[str, str] | None = None,
    receiver_traceback: bool = False,
) -> SuiteRun:
    """Run ``dlr-conformance [--target-url URL] ARGS`` in-process in ``folder`` (created if need be).

    ``explicit``: the three reports go to paths given on the command line (``out/report.html``, ``out/junit.xml``,
    ``out/summary.json``), else to their defaults under ``reports/``. ``agree``: check that the reports were written
    and agree (:meth:`SuiteRun.check_agreement`); a run that ends in a usage error writes none. ``limit``: the
    seconds after which the run is taken for hung (see :func:`tests.support.cli.invoke`); ``env``: the tool's own
    environment variables for the run (``DLR_...``), which it otherwise does not see. ``receiver_traceback``: the
    receiver answers with its own traceback, which the output quotes (else a traceback is dlr-conformance's own).
    """
    folder.mkdir(parents=True, exist_ok=True)
    done = invoke(*_arguments(folder, url, args, explicit), cwd=folder, limit=limit, env=env)
    assert receiver_traceback or "Traceback" not in done.output, done.output[-5000:]
    run = _suite_run(folder, url, done, explicit)
    return run.check_agreement() if agree else run


def start_suite(folder: Path, url: str | None, *args: str, explicit: bool = False) -> Process:
    """Start the installed ``dlr-conformance`` as a process in ``folder``; :func:`finish_suite` collects the run."""
    folder.mkdir(parents=True, exist_ok=True)
    return Process([CLI, *_arguments(folder, url, args, explicit)], cwd=folder)


def finish_suite(
    process: Process, folder: Path, url: str | None = None, *, limit: float = 120.0, explicit: bool = False
) -> SuiteRun:
    """Wait for a run started with :func:`start_suite` (killed after ``limit`` seconds) and collect it."""
    return _suite_run(folder, url, process.wait(limit), explicit)


def plugin_args(*args: str) -> list[str]:
    """The CLI's options as the pytest plugin spells them (``--examples`` -> ``--dlr-examples``)."""
    plugin = {option.flags[0]: option.plugin_flag for option in OPTIONS}
    return [plugin.get(arg, arg) for arg in args]


def run_pytester(pytester: pytest.Pytester, url: str | None, *args: str) -> tuple[pytest.RunResult, SuiteRun]:
    """Run the suite with ``pytest --pyargs conformance.suite``, in-process; the reports go to their defaults."""
    args = tuple(plugin_args(*(("--target-url", url) if url else ()), *args))
    result = pytester.runpytest("--pyargs", "conformance.suite", *args)
    html, junit, summary = _paths(pytester.path, explicit=False)
    run = SuiteRun(int(result.ret), "\n".join(result.outlines), "\n".join(result.errlines), html, junit, summary)
    with contextlib.suppress(ValueError):  # no final line: a usage error
        run.pytest_outcomes = result.parseoutcomes()
    return result, run.check_agreement()
