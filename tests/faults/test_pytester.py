"""The suite run as ``pytest --pyargs conformance.suite`` (pytester): correct receivers pass, faulty ones fail.

The same plugin as the CLI, reached the way a customer adds it to their own pytest: outcomes and console lines
are checked as pytest reports them, and the three reports land at their defaults under ``reports/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.generation.cases import CASES
from conformance.reference.receiver import ReceiverServer
from tests.support.fault_table import BY_ID, assert_caught, expected_verdict
from tests.support.receivers import AsyncioReceiver
from tests.support.runs import FAST, UNHURRIED, run_pytester
from tests.support.servers import Served

# the cases, 3 retry scenarios, 3 capacity tests (1 https-only), the generated test, 6 stored-state scenarios, 2
# security scenarios (forged callbacks: not checked without credentials)
SUITE_TESTS = len(CASES) + 15
STATE_TESTS = 6  # skipped (not checked) without a state reader; the embedded receiver comes with its reader
MAP_TESTS = 1  # skipped (not checked) without a status map, which the embedded receiver does not need
NEED_PREPARER = 1  # the early-report scenario: skipped without a preparer too (the embedded receiver has none)


@pytest.fixture
def reference() -> Iterator[str]:
    """The reference receiver, started from the library as a customer would embed it."""
    server = ReceiverServer().start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("receiver", ["embedded", "reference", "asyncio"])
def test_correct_receiver_is_conformant(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, served: Callable[[Any], Served], receiver: str
) -> None:
    """The reference receiver (bundled, or given by URL) and the asyncio one pass every test with no warning."""
    if receiver == "embedded":
        url = None
    elif receiver == "reference":
        url = request.getfixturevalue("reference")
    else:
        url = served(AsyncioReceiver()).url
    result, reports = run_pytester(pytester, url, *FAST, *UNHURRIED)
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    not_checked = MAP_TESTS + NEED_PREPARER if receiver == "embedded" else STATE_TESTS
    result.assert_outcomes(passed=SUITE_TESTS - 2 - not_checked, skipped=2 + not_checked)
    assert (reports.verdict, reports.failures, reports.warnings) == ("conformant", [], [])
    assert reports.summary["embedded_receiver"] is (receiver == "embedded")
    result.stdout.fnmatch_lines(
        ["*DLR-09 MUST   passed*", "*DLR-10 MUST   passed*", "*DLR-11 SHOULD passed*", "verdict: CONFORMANT*"]
    )


@pytest.mark.parametrize(
    ("fault_id", "failures", "verdict"),
    [
        pytest.param(fault_id, failures, verdict, id=fault_id)
        for fault_id, failures, verdict in [
            ("answers-202", ["*FAILED*test_case_answered_200?documented-example?*"], ["*DLR-02 MUST   failed*"]),
            (
                "keyerror-on-absent-client_job_id",
                ["*FAILED*test_case_answered_200?client_job_id-absent?*"],
                ["*DLR-03 MUST   failed*", "*DLR-04 MUST   passed*"],
            ),
            (
                "unique-constraint-500-on-retry",
                ["*Not idempotent: copy 1 was answered 200*"],
                ["*DLR-09 MUST   failed*"],
            ),
            (
                "race-on-concurrent-duplicates",
                ["*copy ? of 5 (concurrent): Failed with a server error*"],
                ["*DLR-09 MUST   failed*"],
            ),
            (
                "429-over-10-requests-in-5-s",
                ["*burst request * of 20: Rate-limited the callback (429)*"],
                ["*DLR-11 SHOULD failed*"],
            ),
            (
                "type-longer-than-8",
                ["*Minimal failing payload (shrunk*"],
                ["*DLR-05 MUST   passed*", "*DLR-18 SHOULD failed (SHOULD)*"],
            ),
            (
                "forbids-extra-top-level-fields",
                ["*FAILED*test_case_answered_200?unknown-top-level-field?*"],
                ["*DLR-06 SHOULD failed (SHOULD)*"],
            ),
        ]
    ],
)
def test_fault_is_caught_by_pytest(
    pytester: pytest.Pytester,
    served: Callable[[Any], Served],
    fault_id: str,
    failures: list[str],
    verdict: list[str],
) -> None:
    """Run in pytest, a faulty receiver fails exactly the tests meant for its fault, with the fault named."""
    fault = BY_ID[fault_id]
    receiver = served(fault.make())
    select = ("-k", fault.select) if fault.select else ()
    result, reports = run_pytester(pytester, receiver.url, *FAST, *select, *fault.args)
    assert_caught(fault, reports)
    failed = {_key(line) for line in result.outlines if line.startswith("FAILED ")}
    assert failed == reports.failed(), "pytest and the JUnit report disagree on what failed"
    counts = reports.summary["tests"]
    deselected = int(result.parseoutcomes().get("deselected", 0))
    result.assert_outcomes(
        passed=counts["passed"], failed=len(failed), skipped=counts["skipped"], deselected=deselected
    )
    assert counts["passed"] + len(failed) + counts["skipped"] + deselected == SUITE_TESTS
    result.stdout.fnmatch_lines(failures)
    code, expected = expected_verdict(fault)
    assert result.ret == code
    result.stdout.fnmatch_lines([*verdict, f"verdict: {expected.upper().replace('_', ' ')}*"])


def _key(line: str) -> str:
    """``FAILED test_x.py::test_y[case-id] - message`` -> ``case-id`` (or ``test_y``), as the reports key tests."""
    name = line.split()[1].split("::")[-1]
    return name[name.index("[") + 1 : -1] if name.endswith("]") else name
