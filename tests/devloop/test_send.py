"""``dlr-conformance send``: what it sends, the platform's retries, the lines; Ctrl-C through the installed command."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from conformance.contract.schema import errors
from tests.support.cli import invoke
from tests.support.devloop import Serving, rows, send
from tests.support.process import CLI, Process
from tests.support.servers import Recorder
from tests.support.stateful import StatefulReceiver

ATTEMPT = re.compile(r"^\d\d:\d\d:\d\d attempt (\d+) of (\d+): (.*)$")


def attempt_lines(output: str) -> list[tuple[int, int, str]]:
    """The attempt lines: (k, n, the rest)."""
    return [(int(m[1]), int(m[2]), m[3]) for m in map(ATTEMPT.match, output.splitlines()) if m]


def test_default_callback_is_realistic_valid_and_tagged_with_the_run_id(serving: Serving) -> None:
    done = send(serving.url, "--retry-interval", "0.2")
    assert done.code == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    run_id = re.search(r"\(run ([0-9a-f]{8})\)", lines[0])
    assert run_id is not None, lines[0]
    assert [(k, n) for k, n, _ in attempt_lines(done.stdout)] == [(1, 3)]
    assert attempt_lines(done.stdout)[0][2].startswith("200 OK in ")
    assert lines[-1] == "delivered on attempt 1"
    (row,) = rows(serving.db).values()
    assert row["status"] == "DELIVRD"
    assert row["api_job_id"].startswith(f"dlrc-{run_id[1]}-")
    assert re.fullmatch(r"[1-9][0-9]{19}", row["message_id"])
    assert row["timestamp"] > 1_700_000_000_000  # now, in milliseconds as the platform sends it
    assert "client_job_id" not in row  # not supplied: not returned


def test_options_shape_the_callback(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(200)
    done = send(
        receiver.url,
        "--status",
        "UNDELIV",
        "--type",
        "IM_VIBER",
        "--records",
        "3",
        "--client-job-id",
        "job-42",
        "--client-message-id",
        "ref-7",
    )
    assert done.code == 0, done.stderr
    body = json.loads(receiver.bodies[0])
    assert errors(body) == []
    assert body["client_job_id"] == "job-42"
    assert len(body["data"]) == 3
    assert len({r["message_id"] for r in body["data"]}) == 3
    assert {(r["status"], r["type"], r["client_message_id"]) for r in body["data"]} == {
        ("UNDELIV", "IM_VIBER", "ref-7")
    }
    one = scripted(200)
    assert send(one.url, "--message-id", "MSG-1").code == 0
    assert json.loads(one.bodies[0])["data"][0]["message_id"] == "MSG-1"
    headers = receiver.headers[0]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r"dlr-conformance/\S+ \(conformance test run [0-9a-f]{8}\)", headers["User-Agent"])


def test_sequences_reach_the_receivers_state(serving: Serving) -> None:
    progression = send(serving.url, "--sequence", "progression", "--message-id", "prog-1")
    out_of_order = send(serving.url, "--sequence", "out-of-order", "--message-id", "ooo-1")
    duplicate = send(serving.url, "--sequence", "duplicate", "--message-id", "dup-1", "--status", "ENROUTE")
    for done in (progression, out_of_order, duplicate):
        assert done.code == 0, done.stdout + done.stderr
    assert progression.stdout.count("delivered on attempt 1") == 3
    assert [
        line.split(": ")[1].split()[0] for line in progression.stdout.splitlines() if line.startswith("callback ")
    ] == [
        "ACCEPTD",
        "ENROUTE",
        "DELIVRD",
    ]
    state = rows(serving.db)
    assert (state["prog-1"]["status"], state["prog-1"]["reports"]) == ("DELIVRD", 3)
    assert (state["ooo-1"]["status"], state["ooo-1"]["reports"]) == ("DELIVRD", 2)
    assert (state["dup-1"]["status"], state["dup-1"]["reports"]) == ("ENROUTE", 1)


def test_down_for_two_attempts_is_delivered_on_attempt_3(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted("close", "close", 200)
    done = send(receiver.url, "--retry-interval", "0.2")
    assert done.code == 0, done.stdout + done.stderr
    attempts = attempt_lines(done.stdout)
    assert [(k, n) for k, n, _ in attempts] == [(1, 3), (2, 3), (3, 3)]
    for _, _, rest in attempts[:2]:
        assert rest.startswith("no answer: the server closed the connection without answering; next attempt at ")
        assert rest.endswith("(in 0.2 s)")
    assert attempts[2][2].startswith("200 OK in ")
    assert done.stdout.splitlines()[-1] == "delivered on attempt 3"
    assert len(set(receiver.bodies)) == 1  # every attempt carries the very same callback


def test_always_503_is_discarded_with_exit_1(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(503)
    done = send(receiver.url, "--retry-interval", "0.2")
    assert done.code == 1
    attempts = attempt_lines(done.stdout)
    assert [(k, n) for k, n, _ in attempts] == [(1, 3), (2, 3), (3, 3)]
    assert all(rest.startswith("503 Service Unavailable in ") for _, _, rest in attempts)
    assert "next attempt" not in attempts[-1][2]
    assert done.stdout.splitlines()[-1] == "discarded after 3 attempts: the platform would lose this report"
    four = send(receiver.url, "--retry-interval", "0", "--attempts", "4")  # the other reading of the documentation
    assert four.stdout.splitlines()[-1] == "discarded after 4 attempts: the platform would lose this report"
    assert len(receiver.bodies) == 7


def test_a_2xx_other_than_200_is_a_failed_attempt(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(202, 200)
    done = send(receiver.url, "--retry-interval", "0")
    assert done.code == 0
    assert "202 Accepted in " in attempt_lines(done.stdout)[0][2]
    assert done.stdout.splitlines()[-1] == "delivered on attempt 2"


def test_a_hanging_receiver_ends_each_attempt_at_the_deadline(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted("hang")
    started = time.monotonic()
    done = send(receiver.url, "--retry-interval", "0.2", "--timeout", "1")
    assert time.monotonic() - started < 60  # it ends (each attempt at its 1 s deadline)
    assert done.code == 1
    attempts = attempt_lines(done.stdout)
    assert len(attempts) == 3
    for _, _, rest in attempts:
        assert rest.startswith("no answer: no complete answer within the 1 s deadline")
    assert len(receiver.bodies) == 3  # the breaker of the suite did not cut the attempts short


def test_json_output_for_scripts(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(500, 200)
    done = send(receiver.url, "--retry-interval", "0", "--json", "--sequence", "duplicate")
    assert done.code == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["delivered"] is True
    assert document["interrupted"] is False
    first, second = document["callbacks"]
    assert [a["status"] for a in first["attempts"]] == [500, 200]
    assert first["attempts"][0]["reason"] == "Internal Server Error"
    assert first["attempts"][0]["next_attempt_at"] is not None
    assert first["attempts"][1]["next_attempt_at"] is None
    assert first["result"] == "delivered on attempt 2"
    assert second["result"] == "delivered on attempt 1"
    assert first["payload"] == second["payload"]
    assert errors(first["payload"]) == []


def test_payload_files_json_and_json_lines_in_order(tmp_path: Path, scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(200)
    example = json.loads((Path(__file__).parents[2] / "schema/examples/valid/documented-example.json").read_text())
    single = tmp_path / "one.json"
    single.write_text(json.dumps(example, indent=2))
    assert send(receiver.url, "--payload", str(single)).code == 0
    assert json.loads(receiver.bodies[0]) == example
    lines = []
    for status in ("ACCEPTD", "ENROUTE", "DELIVRD"):
        example["data"][0]["status"] = status
        lines.append(json.dumps(example))
    many = tmp_path / "many.jsonl"
    many.write_text("\n".join(lines) + "\n")
    done = send(receiver.url, "--payload", str(many))
    assert done.code == 0, done.stderr
    assert [json.loads(b)["data"][0]["status"] for b in receiver.bodies[1:]] == ["ACCEPTD", "ENROUTE", "DELIVRD"]
    assert "callback 2 of 3: " in done.stdout
    stdin = send(receiver.url, "--payload", "-", stdin=lines[0])
    assert stdin.code == 0
    assert json.loads(receiver.bodies[-1])["data"][0]["status"] == "ACCEPTD"


def test_an_invalid_payload_is_not_sent_unless_asked(tmp_path: Path, scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(200)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"api_job_id": "x", "data": [{"message_id": "1", "status": "DELIVRD", "to": "0123"}]}))
    refused = send(receiver.url, "--payload", str(bad))
    assert refused.code == 4
    validated = invoke("validate", bad)
    first_problem = validated.stdout.splitlines()[0]  # the same wording as validate, its first problem
    assert refused.stderr == f"dlr-conformance send: error: {first_problem}.\n"
    assert receiver.bodies == []
    broken = tmp_path / "broken.json"
    broken.write_text('{"api_job_id": "x",, }')
    malformed = send(receiver.url, "--payload", str(broken))
    assert malformed.code == 4
    assert "broken.json: not well-formed JSON at line 1, column 20" in malformed.stderr
    assert send(receiver.url, "--payload", str(bad), "--no-validate").code == 0
    assert send(receiver.url, "--payload", str(broken), "--no-validate").code == 0
    assert receiver.bodies[-1] == b'{"api_job_id": "x",, }'  # sent as it is, for the experiment


def test_secrets_are_masked(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(503, 200)
    url = receiver.url.replace("http://", "http://alice:s3cr3t-pass@") + "?token=qu3ry-s3cret"
    done = send(url, "--retry-interval", "0", "--header", "Authorization: Bearer t0ken-s3cret", "--json")
    assert done.code == 0
    assert receiver.headers[0]["Authorization"] == "Bearer t0ken-s3cret"
    for secret in ("s3cr3t-pass", "qu3ry-s3cret", "t0ken-s3cret"):
        assert secret not in done.stdout + done.stderr
    assert "***" in json.loads(done.stdout)["target"]


def test_usage_errors_are_one_line_and_exit_4(tmp_path: Path) -> None:
    cases = [
        ((), "give the receiver's callback URL"),
        (("ftp://x/dlr",), "must start with http:// or https://"),
        (("http://127.0.0.1:9/dlr", "--payload", str(tmp_path / "none.json")), "cannot read"),
        (("http://127.0.0.1:9/dlr", "--payload", "-", "--status", "DELIVRD"), "cannot be combined with --payload"),
        (("http://127.0.0.1:9/dlr", "--records", "2", "--message-id", "m"), "--message-id names one message"),
        (("http://127.0.0.1:9/dlr", "--sequence", "backwards"), "invalid choice"),
        (("http://127.0.0.1:9/dlr", "--attempts", "0"), "--attempts must be a whole number of at least 1"),
        (("http://127.0.0.1:9/dlr", "--status", ""), "data[0].status"),
    ]
    for args, why in cases:
        done = send(*args)
        assert done.code == 4, (args, done.stdout, done.stderr)
        assert why in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stdout == ""


def test_ctrl_c_during_the_wait_exits_2_at_once(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted(503)
    with Process([CLI, "send", receiver.url, "--retry-interval", "300"]) as process:
        line = process.wait_for(ATTEMPT.pattern)
        assert "next attempt at" in line
        assert "(in 300 s)" in line
        started = time.monotonic()
        process.interrupt()
        done = process.wait(60)
        assert time.monotonic() - started < 60  # not the 300 s wait
    assert done.code == 2
    assert "interrupted" in done.stderr
    assert "Traceback" not in done.output


def test_ctrl_c_during_an_attempt_in_flight_exits_2_at_once(scripted: Callable[..., Recorder]) -> None:
    receiver = scripted("hang")
    with Process([CLI, "send", receiver.url, "--timeout", "120", "--json"]) as process:
        deadline = time.monotonic() + 60
        while not receiver.bodies and time.monotonic() < deadline:  # the attempt has reached the receiver
            time.sleep(0.05)
        assert receiver.bodies
        started = time.monotonic()
        process.interrupt()
        done = process.wait(60)
        assert time.monotonic() - started < 60  # not the 120 s deadline
    assert done.code == 2
    assert json.loads(done.stdout)["interrupted"] is True
    assert "Traceback" not in done.output


def test_state_cmd_shows_what_the_receiver_stored(serving: Serving) -> None:
    reader = f"{CLI} stored --db {serving.db}"
    done = send(serving.url, "--sequence", "out-of-order", "--message-id", "st-1", "--state-cmd", reader)
    assert done.code == 0, done.stdout + done.stderr
    stored_lines = [line for line in done.stdout.splitlines() if line.startswith("stored: ")]
    assert len(stored_lines) == 1
    row = json.loads(stored_lines[0].removeprefix("stored: "))
    assert (row["message_id"], row["status"], row["reports"]) == ("st-1", "DELIVRD", 2)
    as_json = send(serving.url, "--message-id", "st-2", "--state-cmd", reader, "--json")
    assert [r["message_id"] for r in json.loads(as_json.stdout)["stored"]] == ["st-2"]
    unknown = send(serving.url, "--message-id", "st-3", "--state-cmd", 'echo \'{"message_id": "x", "status": "D"}\'')
    assert "stored: message st-3: the reader returned no row" in unknown.stdout
    broken = send(serving.url, "--state-cmd", "echo oops >&2; exit 3")
    assert broken.code == 3
    assert broken.stderr.startswith("dlr-conformance send: error: could not read the stored state: ")
    assert "oops" in broken.stderr
    assert broken.stdout.splitlines()[-1] == "delivered on attempt 1"


def test_prepare_cmd_creates_the_messages_before_the_first_callback(tmp_path: Path) -> None:
    """``--prepare-cmd`` as in the suite: a receiver that only updates messages it sent stores the report only when
    the preparer created the message first (one call, before the first attempt); a failing preparer is a usage
    error in one line, and nothing is sent."""
    receiver = StatefulReceiver(tmp_path / "store.sqlite3", "only_prepared").start()
    try:
        unprepared = send(receiver.url, "--message-id", "p-1", "--state-cmd", receiver.reader)
        assert "stored: message p-1: the reader returned no row" in unprepared.stdout
        done = send(
            receiver.url, "--message-id", "p-2", "--state-cmd", receiver.reader, "--prepare-cmd", receiver.preparer
        )
        assert done.code == 0, done.output
        lines = done.stdout.splitlines()
        prepared = [i for i, line in enumerate(lines) if line.startswith("prepared: 1 message created by the preparer")]
        first_attempt = next(i for i, line in enumerate(lines) if ATTEMPT.match(line))
        assert prepared
        assert prepared[0] < first_attempt
        (stored,) = [line for line in lines if line.startswith("stored: ")]
        row = json.loads(stored.removeprefix("stored: "))
        assert (row["message_id"], row["status"]) == ("p-2", "DELIVRD")
        sent_before = len(receiver.server.arrivals) if receiver.server else 0
        broken = send(receiver.url, "--prepare-cmd", "echo 'permission denied' >&2; exit 1")
        assert broken.code == 4
        assert broken.stderr.splitlines() == [
            "dlr-conformance send: error: --prepare-cmd: the preparer (--prepare-cmd) exited with status 1; its "
            "stderr: permission denied (nothing was sent)."
        ]
        assert (len(receiver.server.arrivals) if receiver.server else 0) == sent_before
    finally:
        receiver.stop()
