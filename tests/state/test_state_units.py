"""The state module's parts on their own: reader output parsing, command secrets, the ledger's judgement."""

from __future__ import annotations

import pytest

from conformance.checks.stored import older_status_kept, values_not_intact
from conformance.delivery.masking import Redactor
from conformance.engine.ledger import Ledger
from conformance.engine.store import StateCommandError, parse_rows, run_command


def test_json_lines_are_split_on_newlines_only() -> None:
    """A JSON string may hold U+2028 or U+0085 unescaped: they do not end a line."""
    rows = parse_rows('{"message_id": "a\u2028b\x85c", "status": "DELIVRD"}\r\n\n{"message_id": "2", "status": null}\n')
    assert [row["message_id"] for row in rows] == ["a\u2028b\x85c", "2"]


def test_a_json_array_is_accepted_and_empty_output_is_no_rows() -> None:
    assert parse_rows('[{"message_id": "1", "status": "SEEN", "reports": 2}]')[0]["reports"] == 2
    assert parse_rows('{"message_id": 1446, "status": "SEEN"}')[0]["message_id"] == "1446"  # an integer column
    assert parse_rows("  \n") == []


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ('{"message_id": "1"}', "without a status string"),
        ('{"message_id": null, "status": "DELIVRD"}', "without a message_id string"),
        ('{"message_id": "1", "status": "DELIVRD", "reports": "2"}', "reports is not an integer"),
        ('{"message_id": "1", "status": "DELIVRD"}\n{oops', "invalid JSON on line 2"),
        ("[1]", "not a JSON object"),
    ],
)
def test_malformed_output_names_the_problem(output: str, problem: str) -> None:
    with pytest.raises(StateCommandError, match=problem):
        parse_rows(output)


def test_command_gets_the_request_and_run_id_and_its_failure_carries_stderr() -> None:
    out = run_command("cat; echo; echo $DLR_RUN_ID", {"a": "é"}, what="reader", timeout=10, run_id="r1")
    assert out.splitlines() == ['{"a": "é"}', "r1"]
    with pytest.raises(StateCommandError, match=r"exited with status 7; its stderr: first \| second"):
        run_command("echo first >&2; echo second >&2; exit 7", {}, what="reader", timeout=10, run_id="r1")
    traceback = "; ".join(f"echo 'line {i}' >&2" for i in range(30))
    with pytest.raises(StateCommandError, match=r"the end of its stderr \(31 lines\): line 26 .* \| no such table: x$"):
        run_command(f"{traceback}; echo 'no such table: x' >&2; exit 1", {}, what="reader", timeout=10, run_id="r1")
    with pytest.raises(StateCommandError, match=r"did not finish within 0\.5 s"):
        run_command("sleep 20", {}, what="reader", timeout=0.5, run_id="r1")


@pytest.mark.parametrize(
    "command",
    [
        "PGPASSWORD=s3cr3tpw psql -At -c 'select 1'",
        "psql postgresql://dlr:s3cr3tpw@db.internal/dlr -f reader.sql",
        "mysql -uroot -ps3cr3tpw -N -B -r dlr",
        "curl -sf -u admin:s3cr3tpw https://x/state",
        "curl -sf -H 'Authorization: Bearer s3cr3tpw' https://x/state",
        "python read.py --password s3cr3tpw",
    ],
)
def test_passwords_in_commands_are_masked(command: str) -> None:
    redactor = Redactor()
    redactor.add_command(command)
    assert "s3cr3tpw" not in redactor.mask(f"{command}\nstderr: login with s3cr3tpw failed")


def test_ledger_leaves_out_what_the_platform_could_not_send() -> None:
    """The same message and status with different content, or a callback not answered 200: not judged."""
    ledger = Ledger()
    record = {"message_id": "m1", "status": "DELIVRD", "timestamp": 5, "micro_timestamp": 5000, "error_code": 1}
    ledger.note({"api_job_id": "j", "data": [record]}, 200)
    ledger.note({"api_job_id": "j", "data": [{**record, "error_code": 2}]}, 200)
    ledger.note({"api_job_id": "j", "data": [{**record, "message_id": "m2"}]}, 500)
    rows = {"m1": {"message_id": "m1", "status": "DELIVRD", "error_code": 9}}
    assert values_not_intact(ledger, rows) == []
    assert [m.message_id for m in ledger.acknowledged()] == ["m1"]
    assert ledger.messages["m2"].doubtful.startswith("a callback carrying it was answered 500")


def _two_reports(first: tuple[int, int], second: tuple[int, int]) -> Ledger:
    ledger = Ledger()
    for status, (stamp, micro) in (("ENROUTE", first), ("DELIVRD", second)):
        record = {"message_id": "m1", "status": status, "timestamp": stamp, "micro_timestamp": micro}
        ledger.note({"api_job_id": "j1", "data": [record]}, 200)
    return ledger


@pytest.mark.parametrize(
    ("first", "second", "newest"),
    [
        ((10, 10_145), (20, 20_145), "DELIVRD"),  # both fields agree
        ((20, 20_145), (10, 10_145), "ENROUTE"),
        ((10, 20_145), (20, 20_145), None),  # micro_timestamp ties: newest could be read two ways
        ((10, 30_145), (20, 20_145), None),  # the fields disagree
        ((20, 10_145), (20, 20_145), None),  # timestamp ties
    ],
)
def test_newest_is_the_greater_timestamp_and_micro_timestamp(
    first: tuple[int, int], second: tuple[int, int], newest: str | None
) -> None:
    """The newest report has the greater timestamp and the greater micro_timestamp; otherwise none is judged."""
    (message,) = _two_reports(first, second).acknowledged()
    assert message.newest() == newest


def test_an_older_status_kept_shows_both_fields() -> None:
    ledger = _two_reports((10, 10_145), (20, 20_145))
    (problem,) = older_status_kept(ledger, {"m1": {"message_id": "m1", "status": "ENROUTE"}})
    assert "timestamp 20 > 10, micro_timestamp 20145 > 10145" in problem.text
