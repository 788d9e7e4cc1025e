"""Running the conformance suite against a receiver, through the installed CLI or pytester, and reading its reports.

Every run writes three reports; :func:`read_reports` fails the test if any of them is missing or does not parse,
and checks that they agree (one JUnit test case per suite test, the same failures as the JSON summary).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.options import OPTIONS

CLI = Path(sys.executable).parent / "dlr-conformance"
FAST = ("--examples", "30", "--retry-interval", "0")
"""Options that keep a self-test run short: few generated payloads, no pause between retries."""

SUMMARY_FIELDS = ("verdict", "seed", "requests_sent", "latency_s", "failures", "warnings")
_MINIMAL = re.compile(r"Minimal failing payload \(([^)]*(?:\([^)]*\))?[^)]*)\): (\{.*\})")


@dataclass
class Reports:
    """One finished run: exit code, console output and the three reports, parsed."""

    exit_code: int
    output: str
    summary: dict[str, Any]
    junit: ET.Element
    html: str

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
        """Everything the reports say about the failures: JSON messages and cases, JUnit failure texts."""
        parts = [f"{f['case']}: {f['title']}\n{f['message']}" for f in self.failures]
        for case in self.junit.iter("testcase"):
            for element in (*case.findall("failure"), *case.findall("error")):
                parts.append(f"{element.attrib.get('message', '')}\n{element.text or ''}")
        return "\n".join(parts)

    def minimal_payload(self) -> tuple[str, dict[str, Any]]:
        """How the generated check shrank its failure, and the minimal failing payload it shows."""
        match = _MINIMAL.search(self.failure_text())
        assert match is not None, f"no minimal failing payload in the reports:\n{self.failure_text()[:3000]}"
        return match.group(1), json.loads(match.group(2))


def _key(name: str) -> str:
    return name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else name


def _failed(case: ET.Element) -> bool:
    return case.find("failure") is not None or case.find("error") is not None


def read_reports(exit_code: int, output: str, html: Path, junit: Path, summary: Path) -> Reports:
    """Parse the three reports of a finished run; each must exist and parse, and they must agree."""
    for path in (html, junit, summary):
        assert path.is_file(), f"{path.name} was not written (exit code {exit_code}):\n{output[-3000:]}"
    data = json.loads(summary.read_text(encoding="utf-8"))
    missing = [name for name in SUMMARY_FIELDS if name not in data]
    assert not missing, f"the JSON summary lacks {missing}"
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    tests = data["tests"]
    assert len(cases) == sum(tests.values()), "JUnit has not one test case per suite test"
    assert sum(_failed(case) for case in cases) == tests["failed"] + tests["error"]
    if data["failures"]:
        assert any(case.find("failure") is not None for case in cases), "JUnit shows none of the failures"
    text = html.read_text(encoding="utf-8")
    assert "<html" in text.lower(), "the HTML report is not HTML"
    assert f'data-verdict="{data["verdict"]}"' in text, "the HTML report does not show the JSON summary's verdict"
    return Reports(exit_code, output, data, root, text)


def run_cli(tmp_path: Path, url: str | None, *args: str) -> Reports:
    """Run the installed ``dlr-conformance`` command in ``tmp_path``, with explicit report paths there."""
    html, junit, summary = tmp_path / "out" / "report.html", tmp_path / "out" / "junit.xml", tmp_path / "summary.json"
    command = [
        str(CLI),
        *(("--target-url", url) if url else ()),
        *args,
        "--html",
        str(html),
        "--junitxml",
        str(junit),
        "--json",
        str(summary),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    return read_reports(done.returncode, done.stdout + done.stderr, html, junit, summary)


def plugin_args(*args: str) -> list[str]:
    """The CLI's options as the pytest plugin spells them (``--examples`` -> ``--dlr-examples``)."""
    plugin = {option.flags[0]: option.plugin_flag for option in OPTIONS}
    return [plugin.get(arg, arg) for arg in args]


def run_pytester(pytester: pytest.Pytester, url: str | None, *args: str) -> tuple[pytest.RunResult, Reports]:
    """Run the suite with ``pytest --pyargs conformance.suite``, in-process; the reports go to their defaults."""
    args = plugin_args(*(("--target-url", url) if url else ()), *args)
    result = pytester.runpytest("--pyargs", "conformance.suite", *args)
    reports = pytester.path / "reports"
    return result, read_reports(
        int(result.ret),
        "\n".join(result.outlines + result.errlines),
        reports / "report.html",
        reports / "junit.xml",
        reports / "summary.json",
    )
