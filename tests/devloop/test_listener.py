"""``serve`` as a listener: a line per request, ``--record`` captures, ``validate`` and ``send`` read captures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.cli import Result, invoke
from tests.support.devloop import rows, send, start_serve
from tests.support.runs import run_suite
from tests.support.servers import Recorder

LINE = re.compile(r"^\d\d:\d\d:\d\d (\S+): (.*): (valid|INVALID: \S+: .*)$")


def validate(*args: str) -> Result:
    """``dlr-conformance validate ARGS``."""
    return invoke("validate", *args)


def test_serve_prints_and_records_what_send_sends_and_validate_passes_the_capture(
    tmp_path: Path, scripted: Callable[..., Recorder]
) -> None:
    capture = tmp_path / "capture.jsonl"
    serving = start_serve(tmp_path, "--record", str(capture))
    try:
        assert send(serving.url, "--sequence", "progression", "--message-id", "m-1").code == 0
        assert send(serving.url, "--records", "7", "--status", "UNDELIV").code == 0
    finally:
        out, err = serving.stop()
    assert "Traceback" not in err
    lines = [LINE.match(line) for line in out.splitlines()]  # the first line was read by start_serve
    assert all(lines), out
    assert [m[3] for m in lines if m] == ["valid"] * 4
    assert [m[2] for m in lines if m][:3] == ["message m-1 ACCEPTD", "message m-1 ENROUTE", "message m-1 DELIVRD"]
    assert [m[2] for m in lines if m][3].endswith(" UNDELIV and 2 more")  # 5 records shown of 7
    assert all(m[1].startswith("dlrc-") for m in lines if m)

    entries = [json.loads(line) for line in capture.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 4
    assert {e["content_type"] for e in entries} == {"application/json; charset=utf-8"}
    assert all(e["user_agent"].startswith("dlr-conformance/") and e["answer"] == 200 for e in entries)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in entries)

    checked = validate(str(capture))
    assert checked.code == 0, checked.stdout
    assert checked.stdout.splitlines() == [f"{capture}:{n}: valid" for n in range(1, 5)]

    replay = scripted(200)  # the capture replayed at another receiver: the same callbacks, in order
    assert send(replay.url, "--payload", str(capture), "--retry-interval", "0").code == 0
    assert [json.loads(b) for b in replay.bodies] == [e["body"] for e in entries]


def test_serve_records_what_the_suite_sends_and_the_capture_is_valid(tmp_path: Path) -> None:
    """The whole suite against the installed serve: conformant, and every body it recorded passes validate but the
    one callback it cuts off on purpose (to see the receiver's error answer)."""
    capture = tmp_path / "suite.jsonl"
    serving = start_serve(tmp_path, "--record", str(capture))
    try:
        run = run_suite(tmp_path / "run", serving.url, "--examples", "30", "--retry-interval", "0")
    finally:
        out, err = serving.stop()
    assert run.code == 0, run.output[-5000:]
    assert "Traceback" not in err
    summary = run.summary
    recorded = capture.read_text(encoding="utf-8").splitlines()
    assert len(recorded) == summary["requests_sent"]
    assert len(out.splitlines()) == summary["requests_sent"]  # a line per request
    checked = validate("--format", "json", str(capture))
    files = json.loads(checked.stdout)["files"]
    assert len(files) == summary["requests_sent"]
    invalid = [f for f in files if not f["valid"]]
    assert len(invalid) == 1, invalid
    assert invalid[0]["malformed"], invalid  # not JSON: the cut-off callback, not a payload the contract refuses


def test_an_invalid_body_gets_200_when_storable_400_when_not(tmp_path: Path) -> None:
    serving = start_serve(tmp_path, "--record", str(tmp_path / "c.jsonl"))
    drifted = {"api_job_id": "j-1", "data": [{"message_id": "d-1", "status": "DELIVRD", "to": "0123", "type": 5}]}
    try:
        storable = requests.post(
            serving.url,
            json={"api_job_id": "j-1", "data": [{"message_id": "d-1", "status": "DELIVRD", "to": "0123"}]},
            timeout=10,
        )
        unstorable = requests.post(serving.url, json=drifted, timeout=10)
        not_json = requests.post(serving.url, data=b"{", timeout=10)
        state = rows(serving.db)
    finally:
        out, err = serving.stop()
    assert storable.status_code == 200  # the platform's traffic may drift: keep the report, say so
    assert unstorable.status_code == 400
    assert unstorable.text == "data[0].type must be a string (got int)\n"
    assert not_json.status_code == 400
    assert set(state) == {"d-1"}
    lines = out.splitlines()
    assert lines[0].endswith(" j-1: message d-1 DELIVRD: INVALID: data[0]: the required field 'type' is missing")
    assert lines[1].endswith("(answered 400: data[0].type must be a string (got int))"), lines[1]
    assert ": INVALID: data[0]" in lines[1]
    assert "-: INVALID: $: not well-formed JSON at line 1, column 2" in lines[2]
    assert "Traceback" not in err


def test_validate_reads_json_lines_with_line_numbers(tmp_path: Path) -> None:
    example = json.loads((Path(__file__).parents[2] / "schema/examples/valid/documented-example.json").read_text())
    bad = json.loads(json.dumps(example))
    bad["data"][0]["to"] = "0123"
    lines = tmp_path / "payloads.jsonl"
    lines.write_text(f"{json.dumps(example)}\n\n{json.dumps(bad)}\n{{broken\n")
    done = validate(str(lines))
    assert done.code == 1
    assert done.stdout.splitlines() == [
        f"{lines}:1: valid",
        f'{lines}:3: data[0].to: must be 7 to 15 digits, the first not 0 (got "0123")',
        f"{lines}:4: not well-formed JSON at line 1, column 2: Expecting property name enclosed in double quotes",
    ]
    as_json = json.loads(validate("--format", "json", str(lines)).stdout)
    assert [(f["file"], f["line"], f["valid"]) for f in as_json["files"]] == [
        (f"{lines}:1", 1, True),
        (f"{lines}:3", 3, False),
        (f"{lines}:4", 4, False),
    ]
    # without the .jsonl suffix: recognised because its first line is a document of its own
    plain = tmp_path / "payloads.txt"
    plain.write_text(f"{json.dumps(example)}\n{json.dumps(example)}\n")
    assert validate(str(plain)).stdout.splitlines() == [f"{plain}:1: valid", f"{plain}:2: valid"]
    # a pretty-printed single document stays one payload, as before
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(example, indent=2))
    assert validate(str(pretty)).stdout.splitlines() == [f"{pretty}: valid"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert validate(str(empty)).code == 1
