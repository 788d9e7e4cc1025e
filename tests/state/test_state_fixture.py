"""The ``dlr_state_reader`` fixture: a project overrides it in its conftest.py and reads its own store (as an ORM
would) in its own pytest session, instead of giving a --state-cmd."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.runs import run_pytester
from tests.support.stateful import StatefulReceiver

CONFTEST = '''
import sqlite3

import pytest


@pytest.fixture(scope="session")
def dlr_state_reader():
    """Rows straight from the receiver's database, as a project's ORM would give them."""

    def read(request):
        db = sqlite3.connect({db!r})
        db.row_factory = sqlite3.Row
        wanted = set(request["message_ids"])
        for row in db.execute("SELECT message_id, status, reports, timestamp, error_code FROM message"):
            if row["message_id"] in wanted:
                yield dict(row)
        db.close()

    return read
'''
ARGS = ("-k", "test_state", "--retry-interval", "0", "--state-timeout", "2")


@pytest.mark.parametrize(("fault", "failing"), [("", set()), ("errbyte", {"DLR-16"}), ("reprocess", {"DLR-14"})])
def test_conftest_fixture_reads_the_state(
    pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver], fault: str, failing: set[str]
) -> None:
    """The overriding fixture is used: correct stores pass DLR-13..16, faulty ones fail with the fault named."""
    receiver = stateful(fault)
    pytester.makeconftest(CONFTEST.format(db=receiver.db))
    result, reports = run_pytester(pytester, receiver.url, *ARGS)
    rows = {row["id"]: row["state"] for row in reports.summary["requirements"]}
    assert {r for r, state in rows.items() if state == "failed"} == failing, "\n".join(result.outlines[-40:])
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16)} - {"failed"} <= {"passed", "warnings"}
    assert "fixture dlr_state_reader" in reports.summary["stored_state"]
    # the header says so from the start, and the plan counts what the stored-state scenarios send with it
    result.stdout.fnmatch_lines(["dlr-conformance stored state: read with the fixture dlr_state_reader*"])
    assert reports.summary["requests_sent"] == reports.summary["requests_planned"] > 0
    if not failing:
        assert result.ret == 0
        result.assert_outcomes(passed=4, skipped=2)  # DLR-19: no status map; DLR-22 needs a preparer too
    else:
        assert result.ret == 1


def test_fixture_that_raises_is_an_error(pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver]) -> None:
    """A fixture reader that raises makes the verdict error (exit 3) with its exception in one line."""
    receiver = stateful()
    pytester.makeconftest(
        """
import pytest


@pytest.fixture
def dlr_state_reader():
    def read(request):
        raise ConnectionError("the ORM lost its database")

    return read
"""
    )
    result, reports = run_pytester(pytester, receiver.url, *ARGS)
    assert result.ret == 3
    assert reports.verdict == "error"
    result.stdout.fnmatch_lines(["*could not read the stored state*ConnectionError: the ORM lost its database*"])
