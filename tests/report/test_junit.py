"""The JUnit XML report: one testcase per check, the requirement as a property, failures that name the problem."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixtures' types
    from tests.support.runs import SuiteRun

DOCUMENTED = "test_case_answered_200[documented-example]"


def junit_cases(run: SuiteRun) -> dict[str, ET.Element]:
    """The run's testcases by name (names are unique in the suite)."""
    cases = list(ET.parse(run.junit_path).getroot().iter("testcase"))
    by_name = {str(case.get("name")): case for case in cases}
    assert len(by_name) == len(cases), "two testcases share a name"
    return by_name


def requirement(case: ET.Element) -> str:
    """The requirement property of a testcase."""
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    return str(properties.get("requirement"))


def test_one_testcase_per_check_each_with_its_requirement(passing_run: SuiteRun) -> None:
    cases = junit_cases(passing_run)
    summary = passing_run.summary
    assert len(cases) == sum(summary["tests"].values())
    assert all(re.fullmatch(r"DLR-\d\d", requirement(case)) for case in cases.values())
    assert Counter(requirement(case) for case in cases.values()) == {
        r["id"]: r["tests"] for r in summary["requirements"]
    }
    assert requirement(cases[DOCUMENTED]) == "DLR-02"
    assert all(case.get("classname") == requirement(case) for case in cases.values())  # CI tools group by it
    assert [name for name, case in cases.items() if case.find("failure") is not None] == []


def test_the_suite_is_named_after_tool_and_target_with_the_run_facts(passing_run: SuiteRun) -> None:
    suite = next(ET.parse(passing_run.junit_path).getroot().iter("testsuite"))
    summary = passing_run.summary
    assert suite.get("name") == f"dlr-conformance {summary['target']}"
    facts = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert facts["dlr-conformance.verdict"] == "conformant"
    assert facts["dlr-conformance.seed"] == "12345"
    assert facts["dlr-conformance.target"] == summary["target"]
    assert facts["dlr-conformance.strict"] == "false"
    assert facts["dlr-conformance.complete"] == "true"
    assert "examples 30" in str(facts["dlr-conformance.options"])
    assert f"JUnit XML: {passing_run.junit_path}" in passing_run.output  # its path printed like the others


def test_a_failing_check_has_a_failure_that_names_the_problem(failing_run: SuiteRun) -> None:
    cases = junit_cases(failing_run)
    tests = failing_run.summary["tests"]
    failed = {name: case.find("failure") for name, case in cases.items() if case.find("failure") is not None}
    assert len(failed) == tests["failed"] + tests["error"]
    failure = failed[DOCUMENTED]
    assert failure is not None
    message = str(failure.get("message"))
    assert message.startswith("1 of 1 deliveries failed [DLR-02: The documented example callback is accepted]")
    assert "Answered with a success status other than 200" in message
    assert "Received: 202 Accepted" in message
    assert "Reproduce: curl " in str(failure.text)
    assert requirement(cases[DOCUMENTED]) == "DLR-02"


def test_a_check_that_does_not_apply_is_skipped_with_its_reason(failing_run: SuiteRun) -> None:
    case = junit_cases(failing_run)["test_https_certificate_validates"]
    skipped = case.find("skipped")
    assert skipped is not None
    assert "http://" in str(skipped.get("message"))
    assert requirement(case) == "DLR-12"
