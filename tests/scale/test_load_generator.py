"""``dlr-conformance load`` when the load generator, not the receiver, is the limit: a rate far above what one Locust
process sends against a receiver that answers at once ends ``error`` (exit 3) with the machine's figure, in the
console, the JSON summary and JUnit, never as a finding against the receiver; the rule itself in-process; the
default connection count bounded per sending process.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from conformance.load.outputs import BUSY_CPU, BUSY_LAG, generator
from conformance.load.traffic import CAP, users
from tests.support.cli import LOAD_PIPE, Result, invoke
from tests.support.servers import TcpServer

pytestmark = LOAD_PIPE  # load runs in-process (tests.support.cli.LOAD_PIPE)

SENTENCE = "the receiver was not the limit; use --processes or more workers"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def answer_at_once(server: TcpServer, conn: socket.socket) -> None:
    """HTTP/1.1 keep-alive, just enough of it: 200 to every request as soon as its body is in, nothing else done."""
    buffer = b""
    while not server.stop.is_set():
        data = conn.recv(65536)
        if not data:
            return
        buffer += data
        answers = 0
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15 :].split(b"\r\n", 1)[0]) if start >= 0 else 0
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            answers += 1
        if answers:
            conn.sendall(ANSWER * answers)


def _load_at_once(tmp_path: Path, *args: str) -> tuple[Result, dict[str, Any], str]:
    """``load`` against a receiver that answers every request at once: the run, its JSON summary, its JUnit file."""
    summary, junit = tmp_path / "load.json", tmp_path / "load.xml"
    receiver = TcpServer(answer_at_once).start()
    try:
        done = invoke(
            "load",
            *("--target-url", receiver.url, *args),
            *("--html", tmp_path / "load.html", "--json", summary, "--junitxml", junit),
            cwd=tmp_path,
        )
    finally:
        receiver.close()
    assert summary.is_file(), f"no JSON summary (exit code {done.code}):\n{done.output[-3000:]}"
    return done, json.loads(summary.read_text("utf-8")), junit.read_text("utf-8")


def test_a_rate_one_process_cannot_send_is_the_machines_limit_not_the_receivers(tmp_path: Path) -> None:
    done, data, junit = _load_at_once(tmp_path, "--rate", "50000", "--duration", "3s")
    assert done.code == 3, done.output[-3000:]
    assert data["verdict"] == "error"
    busy = data["generator"]
    assert busy["limited"] is True
    assert busy["cpu"] >= BUSY_CPU or busy["lag_s"] >= BUSY_LAG
    peak = max(second["ok"] + second["failed"] for second in data["timeline"])
    assert busy["produced_at_most"] == peak < 45_000  # the busiest second, far below what was asked
    sentence = f"this machine produced at most {peak:,}/s: {SENTENCE}"
    assert sentence in data["explanation"]
    assert "ERROR: The load generator could not send 50,000 callbacks/s" in done.stdout
    for text in (done.stdout, junit):
        assert sentence in text  # the same sentence in the console, the JSON summary and JUnit
    # no finding against the receiver: JUnit's one case is an error (not judged), not a failure
    assert "<error " in junit
    assert "<failure" not in junit
    assert "the receiver failed" not in data["explanation"] + done.stdout
    assert data["connections"] == CAP  # not one per 20 callbacks/s (2,500): at most CAP for the one process


def test_a_ramp_step_the_generator_cannot_send_ends_the_ramp_as_its_limit(tmp_path: Path) -> None:
    done, data, junit = _load_at_once(
        tmp_path, "--rate", "800", "--connections", "20", "--ramp", "--step", "3s", "--duration", "60s", "-q"
    )
    assert done.code == 3, done.output[-3000:]
    assert data["verdict"] == "error"
    assert data["steps"][0]["held"], "one process sends 800 callbacks/s on this machine"
    broken = data["steps"][-1]
    assert not broken["held"]
    assert f"could not send {broken['rate']:,.0f} callbacks/s" in data["explanation"]
    assert f"the receiver held {data['highest_rate_held']:,.0f}/s, the step before" in data["explanation"]
    assert SENTENCE in data["explanation"]
    assert SENTENCE in done.stdout
    assert "<failure" not in junit
    assert data["duration_s"] < 50, "the ramp ended at the step the generator could not send"


def test_each_process_of_processes_sends_and_is_counted(tmp_path: Path) -> None:
    """``--processes 2``: Locust forks its workers after importing the locustfile; each is counted as itself."""
    done, data, _ = _load_at_once(tmp_path, "--rate", "40", "--duration", "3s", "--processes", "2", "-q")
    assert done.code == 0, done.output[-3000:]
    assert data["worker_processes"] == 2
    assert data["connections"] == 2  # one per 20 callbacks/s, well under the cap of two processes


def test_the_rule_blames_the_generator_only_when_it_was_busy_and_the_rate_was_not_sent() -> None:
    second = 1_000
    full = {second + i: [0.99, 0.05] for i in range(5)}  # a process that wanted a core all the time
    idle = {second + i: [0.05, 0.0] for i in range(5)}  # one that waited on a slow receiver's answers
    starved = {second + i: [0.5, 0.6] for i in range(5)}  # one whose sends woke 0.6 s late: the CPU went elsewhere
    span = (second, second + 5)
    assert generator(full, *span, achieved=2_400, rate=50_000, deadlines_only=False).limited
    assert generator(starved, *span, achieved=2_400, rate=50_000, deadlines_only=False).limited
    # a slow receiver leaves the generator idle: still the receiver's
    assert not generator(idle, *span, achieved=3, rate=10, deadlines_only=False).limited
    # the rate was sent: a failure is the receiver's unless every one was a deadline the busy generator missed
    assert not generator(full, *span, achieved=2_900, rate=3_000, deadlines_only=False).limited
    assert generator(full, *span, achieved=2_900, rate=3_000, deadlines_only=True).limited
    # the median of the span: one busy second (spawning the users) is not a busy generator
    spike = {**idle, second: [1.0, 2.0]}
    judged = generator(spike, *span, achieved=3, rate=10, deadlines_only=False)
    assert (judged.cpu, judged.lag_s, judged.limited) == (0.05, 0.0, False)
    # nothing sampled (a worker that never reported): never blamed
    assert not generator({}, *span, achieved=0, rate=10, deadlines_only=False).limited


def test_the_default_connections_are_bounded_per_sending_process() -> None:
    assert users(200) == 10  # one per 20 callbacks/s ...
    assert users(50_000) == CAP  # ... at most CAP per process that sends
    assert users(50_000, processes=4) == 4 * CAP
    assert users(50_000, connections=2_500) == 2_500  # what the user asks for, as asked
