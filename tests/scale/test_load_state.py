"""``dlr-conformance load --state-cmd``: after the load, nothing acknowledged lost (DLR-13) and retries processed
once (DLR-14), through the command (in-process) against receivers on loopback that store right, lose reports or
count retries twice; a broken reader stops the run before the load; secrets never reach a command line.

The receivers keep what they stored in memory and serve it at ``GET /state`` as JSON Lines; the state reader is a
one-line Python command that fetches it, as a customer's reader would query their database.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.cli import LOAD_PIPE, invoke
from tests.support.servers import Arrival, Recorder, Reply

pytestmark = LOAD_PIPE  # load runs in-process (tests.support.cli.LOAD_PIPE)

TOKEN = "state-token-5d1c0e"
BEARER = "state-bearer-9a3f6b"


class Storing:
    """Answers 200 and stores per message the distinct statuses processed (a retry changes nothing); serves what it
    stored at ``GET /state``, one JSON line per message."""

    counts = True  # the reader gives each message's `reports` count

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.peers: set[int] = set()  # one port per connection (HTTP/1.1 keep-alive: one per Locust user)

    def __call__(self, arrival: Arrival, index: int) -> Reply:
        """Answer one request."""
        if arrival.method == "GET":
            with self.lock:
                lines = [
                    json.dumps(
                        {"message_id": m, "status": row["status"], **({"reports": row["count"]} if self.counts else {})}
                    )
                    for m, row in self.stored.items()
                ]
            return 200, {}, "\n".join(lines).encode()
        body = json.loads(arrival.body)
        with self.lock:
            self.peers.add(arrival.peer)
            for record in body["data"]:
                self.store(record)
        return 200, {}, b""

    def store(self, record: dict[str, Any]) -> None:
        """Process one report."""
        row = self.stored.setdefault(record["message_id"], {"statuses": set(), "count": 0})
        if record["status"] not in row["statuses"]:
            row["statuses"].add(record["status"])
            row["count"] += 1
        row["status"] = record["status"]


class Losing(Storing):
    """Answers 200 to everything but never stores a message whose id ends in 7: a tenth of them are lost."""

    def store(self, record: dict[str, Any]) -> None:
        if not record["message_id"].endswith("7"):
            super().store(record)


class CountingRetries(Storing):
    """Counts every delivery of a report, so a retry is processed again."""

    def store(self, record: dict[str, Any]) -> None:
        row = self.stored.setdefault(record["message_id"], {"statuses": set(), "count": 0})
        row["count"] += 1
        row["status"] = record["status"]


class CountingRetriesUnread(CountingRetries):
    """Counts a retry again, but its reader gives no `reports` count: DLR-14 cannot be judged."""

    counts = False


def _reader(url: str) -> str:
    code = f"import urllib.request; print(urllib.request.urlopen({url + '/state'!r}).read().decode())"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


class _Watch:
    """Every process's command line, sampled every 0.1 s while the ``with`` block runs."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.lines += [line for line in _command_lines() if "locust" in line]

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(10)


def _run(tmp_path: Path, receiver: Storing, *args: str) -> dict[str, Any]:
    """A load run with --state-cmd against ``receiver``."""
    summary, junit = tmp_path / "s.json", tmp_path / "j.xml"
    with Recorder(receiver) as served:
        command = ["load", "--target-url", served.url, "--state-cmd", _reader(served.url), *args]
        done = invoke(*command, "--json", summary, "--junitxml", junit, "--html", tmp_path / "l.html", cwd=tmp_path)
    data = json.loads(summary.read_text("utf-8")) if summary.is_file() else {}
    return {
        "code": done.code,
        "output": done.output,
        "summary": data,
        "junit": junit.read_text("utf-8") if junit.is_file() else "",
        "peers": set(receiver.peers),
    }


def _command_lines() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                continue
    return found


def _requirement(summary: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in summary["state"]["requirements"] if r["id"] == rid)


def test_a_receiver_that_stores_right_passes_both(tmp_path: Path) -> None:
    run = _run(tmp_path, Storing(), "--rate", "40", "--duration", "4s")
    assert run["code"] == 0, run["output"][-3000:]
    summary = run["summary"]
    assert summary["verdict"] == "held"
    state = summary["state"]
    assert state["checked"]
    assert state["messages_acknowledged"] == state["messages_known_to_the_reader"] > 50
    assert _requirement(summary, "DLR-13")["status"] == "passed"
    assert _requirement(summary, "DLR-14")["status"] == "passed"
    assert "DLR-13 passed; DLR-14 passed" in run["output"]
    assert '<property name="DLR-13" value="passed" />' in run["junit"]


def test_lost_reports_fail_dlr_13_with_the_messages_named(tmp_path: Path) -> None:
    run = _run(tmp_path, Losing(), "--rate", "40", "--duration", "4s", "--state-timeout", "1")
    assert run["code"] == 1, run["output"][-3000:]
    summary = run["summary"]
    assert summary["verdict"] == "not_conformant"
    assert summary["rate_verdict"] == "held"  # every answer was 200: only the stored state shows the loss
    lost = _requirement(summary, "DLR-13")
    assert lost["status"] == "failed"
    acknowledged = summary["state"]["messages_acknowledged"]
    assert 0 < lost["failures"] < acknowledged / 4
    assert lost["failures"] == acknowledged - summary["state"]["messages_known_to_the_reader"]
    evidence = lost["evidence"][0]
    assert evidence["message_id"].endswith("7")
    assert "not stored" in evidence["text"]
    assert "the report is lost" in evidence["text"]
    assert evidence["reports_sent"][0]["data"][0]["message_id"] == evidence["message_id"]
    assert "DLR-13 failed for" in summary["explanation"]
    assert 'failures="1"' in run["junit"]
    assert '<property name="DLR-13" value="failed" />' in run["junit"]
    assert "NOT CONFORMANT" in run["output"]


def test_retries_processed_again_fail_dlr_14(tmp_path: Path) -> None:
    # each callback is a retry with a chance of 2%: 600 callbacks carry none with a chance of 0.98^600, 6e-6
    run = _run(tmp_path, CountingRetries(), "--rate", "100", "--duration", "6s", "--state-timeout", "1")
    assert run["code"] == 1, run["output"][-3000:]
    summary = run["summary"]
    assert summary["reports"]["retries"] > 0
    twice = _requirement(summary, "DLR-14")
    assert twice["status"] == "failed"
    # a retry re-sends a whole callback, a batch too: each of its messages counts once
    assert 0 < twice["failures"] < summary["state"]["messages_acknowledged"] / 2
    for evidence in twice["evidence"]:
        assert "a retry was processed again" in evidence["text"]
        assert re.search(r"was delivered [2-9] times", evidence["text"]), evidence["text"]
    assert _requirement(summary, "DLR-13")["status"] == "passed"


def test_a_broken_reader_stops_the_run_before_the_load(tmp_path: Path) -> None:
    command = ["load", "--rate", "10", "--duration", "30s", "--state-cmd", "echo 'no such table' >&2; exit 3"]
    started = time.monotonic()
    done = invoke(*command, cwd=tmp_path)
    assert done.code == 4, done.output
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "--state-cmd: the state reader (--state-cmd) exited with status 3" in done.stderr
    assert "no such table" in done.stderr
    assert time.monotonic() - started < 20  # no 30 s load was run
    assert not (tmp_path / "reports" / "load-summary.json").exists()


def test_secrets_never_reach_a_command_line(tmp_path: Path) -> None:
    """The target URL and header values go to Locust in its environment: ``ps`` shows every user command lines."""
    receiver = Storing()
    summary = tmp_path / "s.json"
    with Recorder(receiver) as served, _Watch() as watched:
        command = ["load", "--target-url", f"{served.url}?token={TOKEN}", "--header", f"Authorization: {BEARER}"]
        command += ["--processes", "2", "--rate", "20", "--duration", "4s", "--json", summary]
        done = invoke(*command, "--junitxml", tmp_path / "j.xml", "--html", tmp_path / "l.html", cwd=tmp_path)
    assert done.code == 0, done.output[-3000:]
    assert any("-m locust" in line for line in watched.lines), "no Locust process was seen: the check proves nothing"
    assert not [line for line in watched.lines if TOKEN in line or BEARER in line]
    # the callbacks did flow: at least half the 80 planned (a loaded machine starts Locust's two processes late)
    assert json.loads(summary.read_text("utf-8"))["requests_sent"] >= 40
    assert receiver.stored, "the callbacks did not reach the receiver"


def test_connections_sets_how_many_users_send_the_rate(tmp_path: Path) -> None:
    run = _run(tmp_path, Storing(), "--rate", "40", "--duration", "3s", "--connections", "2")
    assert run["code"] == 0, run["output"][-3000:]
    assert len(run["peers"]) == 2, run["peers"]  # two keep-alive connections, 20 callbacks/s each


def test_the_ledger_judges_what_was_acknowledged_and_doubts_what_was_not(tmp_path: Path) -> None:
    """The compact ledger as the comparisons see it: acknowledged messages, copies, and doubt where an answer
    never came (the load ended with the callback in flight)."""
    from conformance.checks.stored import lost_reports, misprocessed_retries
    from conformance.engine.ledger import CompactLedger, LedgerLines

    ledger_line = LedgerLines.line

    path = tmp_path / "ledger.tsv"
    path.write_text(
        ledger_line("job-1", "m1", "ACCEPTD", True)
        + ledger_line("job-1", "m1", "ENROUTE", True)
        + ledger_line("job-1", "m1", "ENROUTE", True)  # a retry, answered 200 again
        + ledger_line("job-1", "m2", "ACCEPTD", True)
        + ledger_line("job-1", "m2", "ENROUTE", False)  # in flight when the load ended
        + ledger_line("job-2", "m3", "ACCEPTD", False),  # never acknowledged
        encoding="utf-8",
    )
    ledger = CompactLedger.read(path)
    assert ledger.request("run")["message_ids"] == ["m1", "m2"]
    assert ledger.request("run")["api_job_ids"] == ["job-1"]
    m1, m2 = list(ledger.acknowledged())
    assert m1.copies == {"ACCEPTD": 1, "ENROUTE": 2}
    assert not m1.doubtful
    assert m2.doubtful
    assert m2.order == ["ACCEPTD"]
    rows = {"m1": {"message_id": "m1", "status": "ENROUTE", "reports": 3}, "m2": {"status": "ENROUTE", "reports": 9}}
    assert [p.message_id for p in misprocessed_retries(ledger, rows)] == ["m1"]  # m2 is doubtful: not judged
    assert [p.message_id for p in lost_reports(ledger, {"m2": rows["m2"]})] == ["m1"]


def test_without_a_reports_count_dlr_14_is_not_checked_never_passed(tmp_path: Path) -> None:
    """A reader that gives no `reports` count cannot show a retry processed twice: DLR-14 is said not checked."""
    run = _run(tmp_path, CountingRetriesUnread(), "--rate", "40", "--duration", "3s", "--state-timeout", "1")
    summary = run["summary"]
    assert _requirement(summary, "DLR-13")["status"] == "passed", run["output"][-3000:]
    twice = _requirement(summary, "DLR-14")
    assert twice["status"] == "not_checked"
    assert twice["failures"] == 0
    assert "the reader gives no `reports` count" in twice["note"]
    assert "DLR-14 not checked" in run["output"]
    assert "DLR-14 passed" not in run["output"]
