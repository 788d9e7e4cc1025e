"""The suite inside a project's own pytest session (``pytest tests/ --pyargs conformance.suite``): the project's
tests, their outcomes, exit code and JUnit file stay theirs; a selection without the suite gives no verdict;
listing tests never runs anything; the suite's order is its own; xdist is refused in one line; the target, the
reader and the preparer may be the project's own fixtures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.support.servers import Recorder

OWN = """
def test_mine_passes():
    assert True


def test_mine_fails():
    assert 1 == 2
"""
ONE_CHECK = ("--dlr-requirement", "DLR-02")  # the documented example: one request


def _suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("test_own.py", "--pyargs", "conformance.suite", "-p", "no:randomly", *args)


def _summary(pytester: pytest.Pytester) -> dict[str, object]:
    data: dict[str, object] = json.loads((pytester.path / "reports" / "summary.json").read_text(encoding="utf-8"))
    return data


def test_own_failing_test_keeps_its_outcome_and_the_verdict_stays_the_suites(
    pytester: pytest.Pytester, recorder: Callable[..., Recorder]
) -> None:
    """A failing test of the project's: exit 1 and pytest's own FAILED line; the verdict and every report cover
    the suite's tests alone (before: "Test error" under the requirements, verdict ERROR, exit 3)."""
    target = recorder()
    pytester.makepyfile(test_own=OWN)
    result = _suite(pytester, "--dlr-target-url", target.url, *ONE_CHECK, "-rf")
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["FAILED test_own.py::test_mine_fails*"])
    result.stdout.fnmatch_lines(["verdict: CONFORMANT*"])
    summary = _summary(pytester)
    assert summary["verdict"] == "conformant"
    assert "test_mine" not in json.dumps(summary)
    junit = (pytester.path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert "test_mine" not in junit
    assert "test_case_answered_200" in junit


def test_own_tests_passing_exit_0(pytester: pytest.Pytester, recorder: Callable[..., Recorder]) -> None:
    target = recorder()
    pytester.makepyfile(test_own="def test_mine_passes():\n    assert True\n")
    result = _suite(pytester, "--dlr-target-url", target.url, *ONE_CHECK)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2, deselected=result.parseoutcomes()["deselected"])


@pytest.mark.parametrize("selection", [("-k", "test_mine"), ("-m", "slow")])
def test_selection_without_the_suite_gives_no_verdict(
    pytester: pytest.Pytester, recorder: Callable[..., Recorder], selection: tuple[str, str]
) -> None:
    """No suite test selected: no verdict, no "dlr-conformance" section, no output file, pytest's exit code."""
    target = recorder()
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow tests\n")
    pytester.makepyfile(test_own=OWN)
    result = _suite(pytester, "--dlr-target-url", target.url, *selection)
    assert result.ret == (1 if selection[0] == "-k" else 5)
    output = result.stdout.str()
    assert "verdict:" not in output
    assert "CONFORMANT" not in output
    assert not (pytester.path / "reports").exists()
    assert target.bodies == []


def test_junit_file_and_suite_name_stay_the_projects(
    pytester: pytest.Pytester, recorder: Callable[..., Recorder]
) -> None:
    """``--junitxml`` in a project's session: pytest's file, every test, the project's suite name; the suite's
    own JUnit file goes to its default path."""
    target = recorder()
    pytester.makepyfile(test_own="def test_mine_passes():\n    assert True\n")
    result = _suite(
        pytester, "--dlr-target-url", target.url, *ONE_CHECK, "--junitxml", "theirs.xml", "-o", "junit_suite_name=team"
    )
    assert result.ret == 0, result.stdout.str()
    theirs = ET.parse(pytester.path / "theirs.xml").getroot()
    (suite,) = theirs.iter("testsuite")
    assert suite.get("name") == "team"
    names = {case.get("name") for case in theirs.iter("testcase")}
    assert "test_mine_passes" in names
    assert (pytester.path / "reports" / "junit.xml").exists()


@pytest.mark.parametrize("listing", ["--collect-only", "--fixtures", "--fixtures-per-test", "--markers"])
def test_listing_runs_nothing(pytester: pytest.Pytester, listing: str) -> None:
    """What IDEs run: no receiver started, nothing sent, no verdict, no output file, exit 0."""
    pytester.makepyfile(test_own=OWN)
    result = _suite(pytester, listing)
    assert result.ret == 0, result.stdout.str()
    output = result.stdout.str()
    assert "verdict:" not in output
    assert "(bundled reference receiver)" not in output
    assert not (pytester.path / "reports").exists()
    if listing == "--fixtures":
        result.stdout.fnmatch_lines(["dlr_target_url*", "dlr_preparer*"], consecutive=False)


def test_xdist_leaves_the_suite_out_and_runs_the_teams_tests(pytester: pytest.Pytester) -> None:
    """Under pytest-xdist the suite's tests are deselected with one line saying why; the team's run as usual."""
    pytester.makepyfile(test_own=OWN)
    result = _suite(pytester, "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the team's failing test, its own outcome
    result.assert_outcomes(passed=1, failed=1)  # the team's two tests, none of the suite's
    assert "does not run under pytest-xdist (-n 2)" in result.stdout.str()
    assert "verdict:" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_xdist_with_the_suite_alone_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--pyargs", "conformance.suite", "-p", "no:randomly", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "does not run under pytest-xdist (-n 2)" in result.stderr.str() + result.stdout.str()


REVERSE = """
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    items.reverse()  # as pytest-randomly shuffles
"""


def test_suite_order_is_its_own_whatever_reorders_the_tests(pytester: pytest.Pytester) -> None:
    """The project's tests first, then the suite in its own order: the stored-state checks after the deliveries
    they judge (before: they ran first and judged 4 messages), the capacity checks last."""
    pytester.makepyfile(test_own="def test_mine_passes():\n    assert True\n")
    pytester.makeconftest(REVERSE)
    result = _suite(pytester, "-v", "-k", "mine or documented or test_state or burst", "--dlr-examples", "5")
    ran = [line.split(" ")[0] for line in result.outlines if "::" in line and line.rstrip().endswith("]")]
    modules = [name.split("::")[0] for name in ran]
    assert modules == ["test_own.py", "test_contract_cases.py", *["test_state.py"] * 6, "test_capacity.py"], ran
    assert result.ret == 0, result.stdout.str()


TARGET_AND_PREPARER = """
import json
import pytest
from conformance.reference.receiver import ReceiverServer


@pytest.fixture(scope="session")
def dlr_target_url():
    server = ReceiverServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def dlr_preparer():
    def prepare(run_id, messages):
        with open("prepared.jsonl", "a") as out:
            out.writelines(json.dumps(m) + "\\n" for m in messages)
    return prepare
"""


def test_target_and_preparer_from_the_projects_fixtures(pytester: pytest.Pytester) -> None:
    """A URL known only at run time (a live server on a free port) and an in-process preparer."""
    pytester.makepyfile(test_own="def test_mine_passes():\n    assert True\n")
    pytester.makeconftest(TARGET_AND_PREPARER)
    result = _suite(pytester, *ONE_CHECK)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "dlr-conformance target: from fixture dlr_target_url (resolved before the first delivery)",
            "dlr-conformance: sending 1 requests to the target of fixture dlr_target_url (1 checks,*",
            "*dlr-conformance: target from fixture dlr_target_url: http://127.0.0.1:*",
        ]
    )
    summary = _summary(pytester)
    assert str(summary["target"]).startswith("http://127.0.0.1:")
    assert "bundled" not in json.dumps(summary)
    assert (pytester.path / "prepared.jsonl").read_text().count("message_id") >= 1


FAILING_PREPARER = """
import pytest


@pytest.fixture(scope="session")
def dlr_preparer():
    def prepare(run_id, messages):
        raise RuntimeError("no such table: receipts_message")
    return prepare
"""


def test_failing_preparer_fixture_stops_the_run_in_one_line(
    pytester: pytest.Pytester, recorder: Callable[..., Recorder]
) -> None:
    target = recorder()
    pytester.makepyfile(test_own="def test_mine_passes():\n    assert True\n")
    pytester.makeconftest(FAILING_PREPARER)
    result = _suite(pytester, "--dlr-target-url", target.url, *ONE_CHECK)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "fixture dlr_preparer:" in result.stdout.str() + result.stderr.str()
    assert "RuntimeError: no such table: receipts_message" in result.stdout.str() + result.stderr.str()
    assert target.bodies == []
