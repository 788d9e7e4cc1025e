"""The recipes of docs/how-to/pytest.md on the real example projects under docs/examples: a Django project with
pytest-django's ``live_server``, and a FastAPI project served by uvicorn in a fixture, each reading the stored
state and creating the messages through its ORM, in its own pytest session.

Django's settings are configured once per process, so the Django project runs in a pytest process of its own
(pytester's subprocess run); the FastAPI project runs in-process.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.process import run
from tests.support.tools import ROOT

EXAMPLES = ROOT / "docs" / "examples"
QUICK = ("--dlr-examples", "5", "--dlr-retry-interval", "0")
STATE = ("-k", "test_state or documented")  # the stored-state checks, and one test of the project's own
# the project's test folder as a path: this checkout's own tests package is importable, and --pyargs would take it
OWN = "./tests"


def _project(pytester: pytest.Pytester, name: str) -> Path:
    shutil.copytree(EXAMPLES / name, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return pytester.path


def _summary(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "reports" / "summary.json").read_text(encoding="utf-8"))
    return data


def _states(summary: dict[str, Any]) -> dict[str, str]:
    return {row["id"]: row["state"] for row in summary["requirements"]}


def _django_project(pytester: pytest.Pytester) -> Path:
    """The Django example, with the developer's own database beside it: migrated, one row in it."""
    project = _project(pytester, "django")
    run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=project, check=True)
    with sqlite3.connect(project / "db.sqlite3") as conn:
        conn.execute("INSERT INTO receipts_message (message_id, reports) VALUES ('the-developers-own', 0)")
    return project


def _developer_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM receipts_message").fetchone()
    return int(count)


@pytest.mark.slow
def test_django_suite_never_touches_the_developers_database(pytester: pytest.Pytester) -> None:
    """The suite alone (no test of the project's asks for the database): the live server runs on the test
    database, the developer's db.sqlite3 keeps its row (before: emptied by pytest-django's flush, 1 row, then 0),
    and DLR-13..16 pass through the ORM reader and preparer (nothing flushed before the state checks)."""
    project = _django_project(pytester)
    result = pytester.runpytest_subprocess("--pyargs", "conformance.suite", "-k", "test_state", *QUICK)
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    assert _developer_rows(project / "db.sqlite3") == 1
    summary = _summary(project)
    assert {_states(summary)[f"DLR-{i}"] for i in (13, 14, 15, 16)} <= {"passed", "warnings"}
    assert "fixture dlr_state_reader" in summary["stored_state"]
    assert "fixture dlr_preparer" in summary["stored_state"]
    assert summary["target"].startswith("http://localhost:")


@pytest.mark.slow
def test_django_project_tests_and_the_suite_in_one_session(pytester: pytest.Pytester) -> None:
    """The project's own tests (one asks for the database) and the suite in one session: both pass, the
    developer's database untouched."""
    project = _django_project(pytester)
    result = pytester.runpytest_subprocess(OWN, "--pyargs", "conformance.suite", *STATE, *QUICK)
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    assert _developer_rows(project / "db.sqlite3") == 1
    assert {_states(_summary(project))[f"DLR-{i}"] for i in (13, 14, 15, 16)} <= {"passed", "warnings"}


def test_fastapi_project_with_uvicorn_in_a_fixture(pytester: pytest.Pytester) -> None:
    """uvicorn serves the app on a free port in a fixture; the reader and preparer go through SQLAlchemy."""
    project = _project(pytester, "fastapi")
    result = pytester.runpytest(OWN, "--pyargs", "conformance.suite", "-p", "no:randomly", *STATE, *QUICK)
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    assert not (project / "dlr.sqlite3").exists()  # the developer's database: never opened
    summary = _summary(project)
    assert {_states(summary)[f"DLR-{i}"] for i in (13, 14, 15, 16)} <= {"passed", "warnings"}
    assert summary["target"].startswith("http://127.0.0.1:")
    # DLR-13..16 and DLR-22 pass (unknown messages answered 404, so they come again); DLR-19: no status map
    result.assert_outcomes(passed=7, skipped=1, deselected=result.parseoutcomes()["deselected"])


@pytest.mark.parametrize("name", ["django", "fastapi"])
def test_docs_show_the_conftest_the_tests_run(name: str) -> None:
    """docs/how-to/pytest.md shows each example's conftest.py as it is (the file these tests run)."""
    page = (ROOT / "docs" / "how-to" / "pytest.md").read_text(encoding="utf-8")
    shown = re.findall(r"^```python\n(.*?)^```", page, re.S | re.M)
    assert (EXAMPLES / name / "conftest.py").read_text(encoding="utf-8") in shown
