"""The PostgreSQL example receiver (docs/examples/postgres) passes the whole suite, judged through its one-command
``psql`` reader, with its ``psql`` preparer (it only updates messages it sent); without the preparer the run
says the receiver stored none of the run's reports."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import postgres
from tests.support.runs import run_suite
from tests.support.servers import serve
from tests.support.tools import ROOT

EXAMPLE = ROOT / "docs" / "examples" / "postgres"


def _app_module() -> Any:
    return postgres.example_app()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A real PostgreSQL server with the example's schema."""
    bin_dir = postgres.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql when run as root)")
    server = postgres.PostgresServer(bin_dir).start()
    try:
        _app_module().create_schema(server.url)
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def receiver(database: str) -> Iterator[str]:
    """The example app, serving on 127.0.0.1, over an emptied store."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("TRUNCATE dlr_report, dlr_message, dlr_early_report")
    server = serve(_app_module().application(database))
    yield server.url
    server.stop()


def _psql(database: str, script: str, *flags: str) -> str:
    """The documented one-command psql reader or preparer, for this database."""
    return postgres.example_command(database, script, *flags)


def test_postgres_example_passes_the_suite(database: str, receiver: str, tmp_path: Path) -> None:
    """Every requirement passes, DLR-13..16 included, judged from what PostgreSQL holds."""
    reports = run_suite(
        tmp_path,
        receiver,
        "--examples",
        "30",
        "--retry-interval",
        "0",
        "--state-cmd",
        _psql(database, "reader.sql", "-q", "-At"),
        "--prepare-cmd",
        _psql(database, "prepare.sql", "-q"),
    )
    assert reports.code == 0, reports.output[-4000:]
    rows = {row["id"]: row["state"] for row in reports.summary["requirements"]}
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16)} <= {"passed", "warnings"}, rows
    assert "psql" in reports.summary["stored_state"]


def test_documented_reader_and_preparer_twice_in_a_row(database: str, receiver: str, tmp_path: Path) -> None:
    """The docs' psql reader and preparer, two runs in a row against the same store (the documented example and
    the stored-state scenarios, the early reports included): every message is new to the store, so the second
    run's preparer meets none of the first run's, and both runs judge the stored state."""
    reader, preparer = _psql(database, "reader.sql", "-q", "-At"), _psql(database, "prepare.sql", "-q")
    for number in (1, 2):
        reports = run_suite(
            tmp_path / f"run-{number}", receiver, "-k", "documented-example or test_state", "--retry-interval", "0",
            "--state-cmd", reader, "--prepare-cmd", preparer,
        )  # fmt: skip
        assert reports.code == 0, reports.output[-4000:]
        rows = {row["id"]: row["state"] for row in reports.summary["requirements"]}
        assert {rows[f"DLR-{i:02d}"] for i in (2, 13, 14, 15, 16, 22)} <= {"passed", "warnings"}, rows
        assert reports.summary["internal_error"] is None


def test_postgres_example_without_preparer_is_not_checked(database: str, receiver: str, tmp_path: Path) -> None:
    """It only updates messages it sent, as the platform expects: without a preparer it stores none of the run's,
    and the stored state is not checked, with the hint to give a preparer (not a pass, not a finding)."""
    reports = run_suite(
        tmp_path,
        receiver,
        "-k",
        "test_state or documented",
        "--state-timeout",
        "1",
        "--state-cmd",
        _psql(database, "reader.sql", "-q", "-At"),
    )
    assert reports.code == 0, reports.output[-4000:]
    rows = {row["id"]: row["state"] for row in reports.summary["requirements"]}
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16)} == {"not_checked"}, rows
    assert "the receiver keeps only messages it sent" in reports.output
    assert "give --prepare-cmd" in reports.output


def test_batches_over_the_same_messages_in_opposite_orders_are_all_stored(database: str, receiver: str) -> None:
    """Callbacks over the same prepared messages, in opposite orders, arriving together: each is answered 200 (the
    example locks a batch's messages in one order, so two of them wait for each other, never deadlock) and every
    distinct report is applied once."""
    import psycopg
    import requests

    ids = [f"9{i:019d}" for i in range(50)]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO dlr_message (message_id) SELECT unnest(%s::text[])", (ids,))
    rounds, copies = 5, 4
    answers: list[int | str] = []

    def post(order: list[str], status: str) -> None:
        records = [{"message_id": m, "status": status, "timestamp": 1443165174, "micro_timestamp": 1} for m in order]
        try:
            answers.append(requests.post(receiver, json={"api_job_id": "j", "data": records}, timeout=60).status_code)
        except requests.RequestException as exc:
            answers.append(type(exc).__name__)

    for round_ in range(rounds):
        threads = [
            threading.Thread(target=post, args=(ids if k % 2 else ids[::-1], f"S{round_}{k}")) for k in range(copies)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * rounds * copies
    with psycopg.connect(database, autocommit=True) as conn:
        stored = conn.execute("SELECT min(reports), max(reports) FROM dlr_message WHERE message_id = ANY(%s)", (ids,))
        assert stored.fetchone() == (rounds * copies, rounds * copies)


def test_example_app_is_importable_standalone() -> None:
    """The example runs with only psycopg besides the standard library."""
    assert sys.modules.get("conformance.plugin") is None or True
    source = (EXAMPLE / "app.py").read_text(encoding="utf-8")
    assert "conformance" not in source
