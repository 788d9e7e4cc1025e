"""The pytest face over the engine: what the plugin changes in a session it puts back, its JUnit file is the one
writer's (pytest's own is left off, its ``--junitxml`` path taken), and the outputs read the run's results, not
attributes set on pytest's objects. In-process (pytester), one edge case against the bundled receiver."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest

from conformance.pytest.plugin import TRANSPORT_LOGGERS

pytestmark = pytest.mark.slow  # each test runs the suite (one edge case) in-process


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--pyargs", "conformance.suite", "-p", "no:cacheprovider", "-k", "documented-example", *args
    )


def test_the_transport_logs_are_as_they_were_after_the_session(pytester: pytest.Pytester) -> None:
    logger = logging.getLogger(TRANSPORT_LOGGERS[0])
    before = (logger.level, list(logger.filters))
    logger.setLevel(logging.DEBUG)
    try:
        result = _run(pytester)
        assert result.ret == 0, "\n".join(result.outlines[-30:])
        for name in TRANSPORT_LOGGERS:
            assert not logging.getLogger(name).filters, name
        assert logger.level == logging.DEBUG
    finally:
        logger.setLevel(before[0])
    assert list(logger.filters) == before[1]


def test_the_junit_file_is_the_engines_at_the_path_pytest_was_given(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--junitxml", "out/j.xml")
    assert result.ret == 0, "\n".join(result.outlines[-30:])
    assert not (pytester.path / "reports" / "junit.xml").exists()
    result.stdout.fnmatch_lines(["*- generated xml file: *out/j.xml -*"])
    root = ET.parse(pytester.path / "out" / "j.xml").getroot()
    assert root.get("name") == "pytest tests"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name", "").startswith("dlr-conformance http://127.0.0.1:")
    facts = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert facts["dlr-conformance.verdict"] == "conformant"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("DLR-02", "test_case_answered_200[documented-example]")
    ]
    assert [(p.get("name"), p.get("value")) for p in cases[0].iter("property")] == [("requirement", "DLR-02")]


def test_the_html_report_shows_each_tests_evidence_from_its_result(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--html", "out/r.html")
    assert result.ret == 0, "\n".join(result.outlines[-30:])
    page = (pytester.path / "out" / "r.html").read_text(encoding="utf-8")
    assert "DLR-02 documented-example" in page  # the row's name: requirement and case, from the result
    assert "1 delivery to the target" in page  # the evidence, from the result of that test
