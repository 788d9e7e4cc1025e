"""The installed ``serve`` facing the internet: hostile input gets 400/411/413, slow or idle clients are cut at the
request deadline, connections are bounded, the store is untouched by a bad request, and never a traceback; a
property-based fuzzer built from the contract's negation finds no 5xx."""

from __future__ import annotations

import copy
import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.contract.schema import load_schema
from tests.support.devloop import Serving, start_serve

EXAMPLE = json.loads((Path(__file__).parents[2] / "schema/examples/valid/documented-example.json").read_text())


def raw(url: str, request: bytes, *, wait: float = 10) -> bytes:
    """Send raw bytes on a new connection; what came back before the server closed it or ``wait`` passed."""
    host, port = url.split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(request)
        out = b""
        try:
            while chunk := conn.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out and out.startswith(b"HTTP/1.1 ") and b"Connection: close" not in out:
                    break
        except TimeoutError:
            pass
    return out


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer."""
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1])


def snapshot(db: Path) -> list[tuple[Any, ...]]:
    """Every row of the receiver's state, read straight from its database."""
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT * FROM message ORDER BY rowid").fetchall()
            + conn.execute("SELECT * FROM report ORDER BY rowid").fetchall()
        )


def messages(db: Path) -> int:
    """How many messages the receiver's database holds."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM message").fetchone()[0])


def post(body: bytes, extra: str = "") -> bytes:
    """A POST request with an exact Content-Length (or the headers in ``extra`` instead)."""
    length = extra or f"Content-Length: {len(body)}\r\n"
    return b"POST /dlr HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + length.encode() + b"\r\n" + body


def test_hostile_requests_get_4xx_and_leave_the_store_untouched(serving: Serving) -> None:
    body = json.dumps(EXAMPLE).encode()
    cases: list[tuple[bytes, int]] = [
        (post(body, "Content-Length: abc\r\n"), 400),
        (post(body, "Content-Length: -5\r\n"), 400),
        (post(body, f"Content-Length: {len(body)}\r\nContent-Length: {len(body)}\r\n"), 400),
        (post(body, "Transfer-Encoding: chunked\r\n"), 411),
        (post(b"", "Content-Length: 1000000000000\r\n"), 413),  # declared, never sent: refused unread
        (post(b"[" * 100_000 + b"]" * 100_000), 400),  # RecursionError once
        (post(b'{"data": [' * 40 + b"]}" * 40), 400),
        (post(b"[1, 2]"), 400),
        (post(b'"just a string"'), 400),
        (post(b'{"api_job_id": "x", "data": "abc"}'), 400),
        (post(b'{"api_job_id": "x", "data": [1]}'), 400),
        (post(b'{"api_job_id": "x", "data": []}'), 400),
        (post(b'{"api_job_id": ["x"], "data": [{"message_id": "1", "status": "DELIVRD"}]}'), 400),
        (post(b'{"api_job_id": "x", "data": [{"message_id": {"a": 1}, "status": "DELIVRD"}]}'), 400),
        (post(b'{"api_job_id": "x", "data": [{"message_id": "1", "status": "DELIVRD", "to": [1]}]}'), 400),
        (
            post(
                b'{"api_job_id": "x", "data": [{"message_id": "1", "status": "D", "timestamp": 18446744073709551616}]}'
            ),
            400,
        ),
        (post(b'{"api_job_id": "x", "data": [{"message_id": "1", "status": "D", "error_code": 1.5}]}'), 400),
        (post(b'{"api_job_id": "x", "data": [{"message_id": "1", "status": "D", "from": "\\ud800"}]}'), 400),
        (post(b'{"api_job_id": "x", "data": [{"status": "DELIVRD"}]}'), 400),
        (post(b"\xff\xfe not utf-8"), 400),
        (post(b"{not json"), 400),
    ]
    for request, expected in cases:
        answer = raw(serving.url, request)
        assert status_of(answer) == expected, (request[:160], answer[:300])
    assert messages(serving.db) == 0  # nothing of that was stored
    ok = requests.post(serving.url, json=EXAMPLE, timeout=10)  # and it still serves
    assert ok.status_code == 200
    assert messages(serving.db) == 1
    _, err = serving.stop()
    assert "Traceback" not in err


def test_slow_and_idle_clients_are_cut_at_the_request_deadline(tmp_path: Path) -> None:
    serving = start_serve(tmp_path, "--request-timeout", "1")
    try:
        host, port = serving.url.split("/")[2].split(":")
        idle = socket.create_connection((host, int(port)), timeout=30)
        trickle = socket.create_connection((host, int(port)), timeout=30)
        started = time.monotonic()
        closed_at = None
        for byte in b"POST /dlr HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{}":  # one byte every 0.2 s
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                closed_at = time.monotonic()
                break
            time.sleep(0.2)
        assert idle.recv(10) == b""  # the server closed the idle connection
        if closed_at is None:  # every byte was accepted by the kernel; the server must have closed it anyway
            assert trickle.recv(10) in (b"",)
        assert time.monotonic() - started < 30  # it ends: not held for as long as the client likes
        idle.close()
        trickle.close()
        assert requests.post(serving.url, json=EXAMPLE, timeout=10).status_code == 200
    finally:
        _, err = serving.stop()
    assert "Traceback" not in err


def test_connections_beyond_the_bound_get_503_and_the_slots_come_back(tmp_path: Path) -> None:
    serving = start_serve(tmp_path, "--max-connections", "2")
    try:
        host, port = serving.url.split("/")[2].split(":")
        held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(2)]
        for conn in held:  # a first request on each, so that both are surely being served
            conn.sendall(post(b"{}"))
            assert conn.recv(65536).startswith(b"HTTP/1.1 400 ")
        third = raw(serving.url, post(json.dumps(EXAMPLE).encode()))
        assert status_of(third) == 503
        for conn in held:
            conn.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the closed connections' slots come back
            if requests.post(serving.url, json=EXAMPLE, timeout=10).status_code == 200:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the slots of closed connections never came back")
    finally:
        _, err = serving.stop()
    assert "Traceback" not in err


# -- fuzzing from the contract's negation ---------------------------------------------------------------------
SCHEMA = load_schema()
TOP = SCHEMA["properties"]
RECORD = SCHEMA["definitions"]["callback_info"]["properties"]
JSON_TYPES = {
    "string": st.text(max_size=20),
    "integer": st.integers(min_value=-(2**70), max_value=2**70),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(st.integers() | st.text(max_size=5), max_size=3),
    "object": st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
}


def _declared(prop: dict[str, Any]) -> str:
    return str(prop.get("type") or SCHEMA["definitions"]["sender"]["type"])


def _not(type_name: str) -> st.SearchStrategy[Any]:
    """A value of any JSON type but ``type_name`` (an integer is no string, a float is no integer)."""
    return st.one_of([s for name, s in JSON_TYPES.items() if name != type_name])


@st.composite
def negated(draw: st.DrawFn) -> bytes:
    """A valid callback with one rule of the contract broken: a field of the wrong type, a required field missing,
    an integer out of range, ``data`` or a record of the wrong type, or a body that is no object."""
    body = copy.deepcopy(EXAMPLE)
    body["data"] = [dict(body["data"][0], message_id=str(draw(st.integers(0, 10**6))))]
    kind = draw(st.sampled_from(["top", "record", "missing", "range", "data", "body"]))
    if kind == "top":
        name = draw(st.sampled_from(sorted(TOP)))
        body[name] = draw(_not(_declared(TOP[name])))
    elif kind == "record":
        name = draw(st.sampled_from(sorted(RECORD)))
        body["data"][0][name] = draw(_not(_declared(RECORD[name])))
    elif kind == "missing":
        required = SCHEMA["definitions"]["callback_info"]["required"]
        del body["data"][0][draw(st.sampled_from(required))]
    elif kind == "range":
        name = draw(st.sampled_from(["timestamp", "micro_timestamp", "error_code"]))
        body["data"][0][name] = draw(st.integers(2**63, 2**80) | st.integers(-(2**80), -(2**63) - 1))
    elif kind == "data":
        body["data"] = draw(_not("array") | st.lists(_not("object"), min_size=1, max_size=3))
    else:
        return json.dumps(draw(_not("object"))).encode()
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    """One installed serve for every fuzzed example."""
    serving = start_serve(tmp_path_factory.mktemp("fuzz"))
    yield serving
    _, err = serving.stop()
    assert "Traceback" not in err
    assert "Error" not in err


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=negated())
def test_fuzzing_serve_with_the_contracts_negation_finds_no_5xx(fuzzed: Serving, body: bytes) -> None:
    before = snapshot(fuzzed.db)
    answer = requests.post(fuzzed.url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code in (200, 400), (answer.status_code, answer.text, body[:300])
    if answer.status_code == 400:
        assert answer.text.endswith("\n")
        assert answer.text.count("\n") == 1  # one line: the reason, never a traceback
        assert snapshot(fuzzed.db) == before  # a refused body leaves the store as it was
