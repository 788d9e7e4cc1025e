"""Recipes of docs/ run as written: the commands are read out of the page, only the placeholders it names (a host,
a port, a database path) are replaced, and the result is judged as the tool would judge it.

The CI recipes run in tests/ecosystem/test_ci_recipes.py, the PostgreSQL reader and preparer (with the example
receiver) in tests/state/test_postgres_example.py.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conformance.checks.statuses import StatusMap
from conformance.contract import KNOWN_STATUSES
from conformance.engine.store import StateCommandError, parse_rows, run_command
from conformance.options import status_map as status_map_file
from tests.support.cli import invoke
from tests.support.devloop import start_serve

ROOT = Path(__file__).resolve().parent.parent
STATE = (ROOT / "docs" / "how-to" / "state.md").read_text(encoding="utf-8")
DEVELOP = (ROOT / "docs" / "how-to" / "develop.md").read_text(encoding="utf-8")
CONTRACT = (ROOT / "docs" / "reference" / "contract.md").read_text(encoding="utf-8")
DB_PLACEHOLDER = "/srv/dlr/receiver.db"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def _option(text: str, flag: str, starts: str) -> str:
    """The command given to ``flag`` in the first ``sh`` line of ``text`` that gives one starting with ``starts``."""
    for block in _blocks(text, "sh"):
        for line in block.splitlines():
            words = shlex.split(line) if line.startswith(flag) else []
            if words[:1] == [flag] and words[1].startswith(starts):
                return words[1]
    raise AssertionError(f"no {flag} {starts}... in the page")


def _json_examples(section: str) -> list[dict[str, object]]:
    return [json.loads(block) for block in _blocks(section, "json")]


# The reader's and the preparer's input, as the page shows them.
READER_INPUT = _json_examples(STATE.split("## The reader:", 1)[1].split("\n## ", 1)[0])[0]
PREPARER_INPUT = _json_examples(STATE.split("## The preparer:", 1)[1].split("\n## ", 1)[0])[0]
MESSAGE_ID = str(READER_INPUT["message_ids"][0])  # type: ignore[index]


def _read(command: str) -> list[dict[str, object]]:
    return parse_rows(run_command(command, READER_INPUT, what="state reader", timeout=10, run_id="4f9a0c1e"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A receiver's SQLite store, with the table and columns the SQLite recipes name."""
    path = tmp_path / "receiver.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "CREATE TABLE dlr_message (message_id TEXT PRIMARY KEY, api_job_id TEXT, status TEXT, reports INTEGER, "
        "timestamp INTEGER, error_code INTEGER, state TEXT)"
    )
    yield path, db
    db.close()


def test_sqlite_preparer_and_reader(store: tuple[Path, sqlite3.Connection]) -> None:
    """The preparer records the page's messages; the reader then shows them, with no status until a report."""
    path, db = store
    reader = _option(STATE, "--state-cmd", "sqlite3 -json ").replace(DB_PLACEHOLDER, str(path))
    preparer = _option(STATE, "--prepare-cmd", "python3 -c").replace(DB_PLACEHOLDER, str(path))
    assert _read(reader) == []  # nothing stored: sqlite3 prints nothing, which reads as no rows
    run_command(preparer, PREPARER_INPUT, what="preparer", timeout=10, run_id="4f9a0c1e")
    rows = _read(reader)
    assert [(row["message_id"], row["status"]) for row in rows] == [(MESSAGE_ID, None)]
    db.execute("UPDATE dlr_message SET status = 'DELIVRD', reports = 1, timestamp = 1443165174145, error_code = 943")
    assert _read(reader) == [
        {"message_id": MESSAGE_ID, "status": "DELIVRD", "reports": 1, "timestamp": 1443165174145, "error_code": 943}
    ]


def test_sqlite_preparer_and_reader_in_two_runs_in_a_row(
    store: tuple[Path, sqlite3.Connection], tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The page's SQLite preparer and reader given to two runs in a row against one store: the documented example's
    message ids are the run's own (new in every run), so the preparer's INSERT never meets an earlier run's."""
    path, db = store
    reader = _option(STATE, "--state-cmd", "sqlite3 -json ").replace(DB_PLACEHOLDER, str(path))
    preparer = _option(STATE, "--prepare-cmd", "python3 -c").replace(DB_PLACEHOLDER, str(path))
    httpserver.expect_request("/dlr", method="POST").respond_with_data("")
    for number in (1, 2):
        (tmp_path / f"run-{number}").mkdir()
        done = invoke(
            "--target-url", httpserver.url_for("/dlr"), "-k", "documented-example", "--state-cmd", reader,
            "--prepare-cmd", preparer, cwd=tmp_path / f"run-{number}",
        )  # fmt: skip
        assert done.code == 0, done.output[-3000:]
    prepared = [row[0] for row in db.execute("SELECT message_id FROM dlr_message")]
    assert len(prepared) == len(set(prepared)) == 2


def test_status_map_and_its_reader(store: tuple[Path, sqlite3.Connection], tmp_path: Path) -> None:
    """The page's status map is one (every documented status has a word, "*" the rest), and its reader prints the
    receiver's words as stored."""
    section = STATE.split("## Your receiver's own words:", 1)[1].split("\n## ", 1)[0]
    words = _json_examples(section)[0]
    path = tmp_path / "words.json"
    path.write_text(json.dumps(words), encoding="utf-8")
    status_map = StatusMap.load(status_map_file(str(path)))
    assert {status_map.word_of(s) for s in KNOWN_STATUSES} <= set(words) - {"queued"}
    assert status_map.word_of("READ") == "unknown"
    store_path, db = store
    command = _option(STATE, "--state-cmd", "sqlite3 -json /srv/dlr/receiver.db 'SELECT message_id, state AS")
    assert "--status-map words.json" in STATE
    for number, state in enumerate(words):
        db.execute("INSERT INTO dlr_message (message_id, state) VALUES (?, ?)", (f"{MESSAGE_ID}{number}", state))
    rows = _read(command.replace(DB_PLACEHOLDER, str(store_path)))
    assert {row["message_id"]: row["status"] for row in rows} == {f"{MESSAGE_ID}{n}": w for n, w in enumerate(words)}


def test_http_admin_endpoint_reader(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request goes to the endpoint as the POST body, with the token; its rows come back; an error status fails
    the reader."""
    command = _option(STATE, "--state-cmd", "curl ")
    placeholder = "https://receiver.example/admin/dlr-state"
    assert placeholder in command
    command = command.replace(placeholder, httpserver.url_for("/admin/dlr-state"))
    monkeypatch.setenv("ADMIN_TOKEN", "t0ken-for-the-test")
    row = {"message_id": MESSAGE_ID, "status": "DELIVRD", "reports": 2}

    def answer(request: Request) -> Response:
        assert request.headers["Authorization"] == "Bearer t0ken-for-the-test"
        assert json.loads(request.get_data()) == READER_INPUT
        return Response(json.dumps(row) + "\n", content_type="application/x-ndjson")

    httpserver.expect_oneshot_request("/admin/dlr-state", method="POST").respond_with_handler(answer)
    assert _read(command) == [row]
    httpserver.expect_oneshot_request("/admin/dlr-state", method="POST").respond_with_data("down", status=503)
    with pytest.raises(StateCommandError, match="exited with status 22"):
        _read(command)
    httpserver.check_assertions()


def _run(argv: list[str]) -> tuple[int, str]:
    done = invoke(*argv)
    return done.code, done.stdout


def test_developer_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve records what send delivers, and validate finds it valid: the three commands of the page, on a free
    port instead of 8080."""
    serve, send, validate = [line.split("#")[0].strip() for line in _blocks(DEVELOP, "sh")[0].strip().splitlines()]
    assert "--port 8080" in serve
    assert "127.0.0.1:8080" in send
    monkeypatch.chdir(tmp_path)
    listener = start_serve(tmp_path, *shlex.split(serve.replace("--port 8080", "--port 0"))[2:])
    try:
        port = listener.url.split(":")[2].split("/")[0]
        code, out = _run(shlex.split(send.replace("8080", port))[1:])
        assert code == 0, out
        assert out.count("delivered on attempt 1") == 2, out
    finally:
        listener.stop()
    capture = [json.loads(line) for line in (tmp_path / "capture.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [c["body"]["data"][0]["status"] for c in capture] == ["DELIVRD", "ENROUTE"]
    code, out = _run(shlex.split(validate)[1:])
    assert code == 0, out


def test_contract_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The three ``contract`` commands print (or write) the documents they say."""
    monkeypatch.chdir(tmp_path)
    lines = [line.split("#")[0].strip() for line in _blocks(CONTRACT, "sh")[0].strip().splitlines()]
    documents = []
    for line in lines:
        code, out = _run(shlex.split(line)[1:])
        assert code == 0
        documents.append(json.loads(out) if out else json.loads((tmp_path / "dlr.json").read_text(encoding="utf-8")))
    schema, openapi, asyncapi = documents
    assert schema["$schema"].startswith("http://json-schema.org/draft-07")
    assert openapi["openapi"].startswith("3.1")
    assert "webhooks" in openapi
    assert asyncapi["asyncapi"].startswith("3.0")
