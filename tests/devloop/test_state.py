"""The reference receiver keeps per-message state (newest status wins, each report counted once), read back through
``dlr-conformance stored`` in the state reader's format."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import requests

from conformance.reference.receiver import FIELDS, ReceiverServer
from tests.support.devloop import Serving, rows, stored


def record(message_id: str, status: str, micro: int, **fields: Any) -> dict[str, Any]:
    """One report of ``message_id``; ``timestamp`` follows ``micro`` (milliseconds, as the platform sends)."""
    return {
        "type": "SMS",
        "message_id": message_id,
        "status": status,
        "timestamp": micro // 1000,
        "micro_timestamp": micro,
        "to": "35699000000",
        "from": "Fortytwo",
        "error_code": 0,
        **fields,
    }


def post(url: str, *records: dict[str, Any], **top: Any) -> None:
    """POST one callback; it must be answered exactly 200."""
    body = {"api_job_id": top.pop("api_job_id", "job-" + uuid.uuid4().hex), "client_job_id": "c1", **top}
    answer = requests.post(url, json={**body, "data": list(records)}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_newest_status_wins_across_callbacks_and_within_a_batch(serving: Serving) -> None:
    t = 1_700_000_000_000_000
    post(serving.url, record("across", "DELIVRD", t + 2000, error_code=7))
    post(serving.url, record("across", "ENROUTE", t + 1000))  # older, arrives late
    post(serving.url, record("batch", "DELIVRD", t + 2000), record("batch", "ENROUTE", t + 1000))
    post(serving.url, record("order", "ACCEPTD", t), record("order", "ENROUTE", t + 1))
    post(serving.url, record("order", "DELIVRD", t + 2))
    state = rows(serving.db)
    assert state["across"]["status"] == "DELIVRD"
    assert state["across"]["error_code"] == 7  # the fields are the newest report's, not the late one's
    assert state["across"]["micro_timestamp"] == t + 2000
    assert state["across"]["reports"] == 2  # the late report is processed (counted), it only does not win
    assert (state["batch"]["status"], state["batch"]["reports"]) == ("DELIVRD", 2)
    assert (state["order"]["status"], state["order"]["reports"]) == ("DELIVRD", 3)


def test_a_retry_is_counted_once_sequential_or_concurrent(serving: Serving) -> None:
    t = 1_700_000_000_000_000
    for _ in range(4):  # the first delivery and three retries of it
        post(serving.url, record("seq", "DELIVRD", t), api_job_id="job-seq")
    for round_ in range(3):  # copies on parallel connections, each round a new report of one message
        body = record("conc", ["ACCEPTD", "ENROUTE", "DELIVRD"][round_], t + round_)
        threads = [threading.Thread(target=post, args=(serving.url, body)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    state = rows(serving.db)
    assert state["seq"]["reports"] == 1
    assert (state["conc"]["status"], state["conc"]["reports"]) == ("DELIVRD", 3)


def test_every_field_of_the_newest_report_is_stored_intact(serving: Serving) -> None:
    long_job = "j" * 255
    sent = record(
        "intact-ü-漢",
        "A_STATUS_NEVER_SEEN_BEFORE_32CHR",
        2**63 - 1,
        timestamp=2**63 - 1,
        error_code=-32768,
        to="123456789012345",
        client_message_id="ref-✓",
        type="IM_VIBER",
        **{"from": "Ünïcødé"},
    )
    sent.pop("from")
    sent.update(sms_from="", viber_from="Вайбер", unknown_extra={"kept": [1, 2]})
    post(serving.url, sent, api_job_id="job-Ω", client_job_id=long_job)
    post(serving.url, record("absent", "DELIVRD", 5), client_job_id="")
    state = rows(serving.db)
    row = state["intact-ü-漢"]
    expected = {k: v for k, v in sent.items() if k in FIELDS}
    assert row == {**expected, "reports": 1, "api_job_id": "job-Ω", "client_job_id": long_job}
    # a field the report did not carry is left out; an empty string is kept as sent
    assert "client_message_id" not in state["absent"]
    assert "sms_from" not in state["absent"]
    assert state["absent"]["client_job_id"] == ""


def test_the_reader_selects_by_message_or_job_id_and_ignores_unknown_ids(serving: Serving) -> None:
    post(serving.url, record("a1", "DELIVRD", 1), api_job_id="job-a")
    post(serving.url, record("b1", "DELIVRD", 1), record("b2", "UNDELIV", 1), api_job_id="job-b")
    post(serving.url, record("c1", "DELIVRD", 1), api_job_id="job-c")
    assert set(rows(serving.db)) == {"a1", "b1", "b2", "c1"}  # empty stdin: every message
    assert set(rows(serving.db, {"run_id": "r", "message_ids": [], "api_job_ids": []})) == {"a1", "b1", "b2", "c1"}
    request = {"run_id": "r", "message_ids": ["a1", "nobody"], "api_job_ids": ["job-b", "job-nobody"]}
    assert set(rows(serving.db, request)) == {"a1", "b1", "b2"}
    # the order of the keys: message_id, status and reports first
    first = stored(serving.db, {"message_ids": ["a1"]}).stdout.splitlines()[0]
    assert first.startswith('{"message_id": "a1", "status": "DELIVRD", "reports": 1, ')


def test_prepared_messages_are_known_and_take_their_first_report(serving: Serving) -> None:
    messages = [
        {"message_id": "p1", "api_job_id": "job-p", "to": "35699000001", "client_message_id": "x", "type": "SMS"},
        {"message_id": "p2", "api_job_id": "job-p", "to": "35699000002", "client_job_id": "cj", "type": "SMS"},
    ]
    done = stored(serving.db, {"run_id": "r", "messages": messages}, "--prepare")
    assert (done.code, done.stdout, done.stderr) == (0, "", "")
    assert rows(serving.db) == {}  # known, but no report yet: nothing to say about their status
    post(serving.url, record("p1", "DELIVRD", 9), api_job_id="job-p")
    state = rows(serving.db, {"api_job_ids": ["job-p"]})
    assert set(state) == {"p1"}
    assert (state["p1"]["status"], state["p1"]["reports"]) == ("DELIVRD", 1)


def test_reader_and_preparer_errors_are_one_line_and_exit_4(tmp_path: Path, serving: Serving) -> None:
    missing = stored(tmp_path / "nowhere.sqlite3")
    assert missing.code == 4
    assert missing.stderr.count("\n") == 1
    assert "no database at" in missing.stderr
    for bad, why in [
        ("{not json", "not JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"message_ids": "a1"}', "'message_ids' must be a list of strings"),
    ]:
        result = stored(serving.db, bad)
        assert (result.code, result.stdout) == (4, ""), result.stderr
        assert why in result.stderr
        assert result.stderr.count("\n") == 1
    not_a_db = tmp_path / "text.sqlite3"
    not_a_db.write_text("this is not SQLite, " * 100)
    result = stored(not_a_db)
    assert result.code == 4
    assert "cannot read" in result.stderr
    bad_prepare = stored(serving.db, {"messages": [{"to": "1"}]}, "--prepare")
    assert bad_prepare.code == 4
    assert "messages[0] has no message_id" in bad_prepare.stderr


def test_the_embedded_receivers_rows_are_the_readers_rows(tmp_path: Path) -> None:
    """The Python function that the embedded receiver's reader uses returns the same rows as the command."""
    from conformance.reference.reader import read

    server = ReceiverServer(db=str(tmp_path / "e.sqlite3")).start()
    try:
        post(server.url, record("e1", "ENROUTE", 1), record("e1", "DELIVRD", 2), api_job_id="job-e")
        assert read(server.store, {"message_ids": ["e1"]}) == list(rows(tmp_path / "e.sqlite3").values())
        assert read(server.store)[0]["status"] == "DELIVRD"
    finally:
        server.stop()
