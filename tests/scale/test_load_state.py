"""``dlr-conformance load --state-cmd``: after the load, nothing acknowledged lost (DLR-13) and retries processed
once (DLR-14), through the installed command against receivers on loopback that store right, lose reports or
count retries twice; a broken reader stops the run before the load; secrets never reach a command line.

The receivers keep what they stored in memory and serve it at ``GET /state`` as JSON Lines; the state reader is a
one-line Python command that fetches it, as a customer's reader would query their database.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

from fault_runs import CLI
from fault_serving import serve

TOKEN = "state-token-5d1c0e"
BEARER = "state-bearer-9a3f6b"


class _Storing(BaseHTTPRequestHandler):
    """Answers 200 and stores per message the distinct statuses processed (a retry changes nothing)."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection per Locust user

    stored: ClassVar[dict[str, dict[str, Any]]] = {}
    counts = True  # the reader gives each message's `reports` count
    lock = threading.Lock()
    peers: ClassVar[set[int]] = set()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with self.lock:
            self.peers.add(self.client_address[1])
            for record in body["data"]:
                self.store(record)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def store(self, record: dict[str, Any]) -> None:
        row = self.stored.setdefault(record["message_id"], {"statuses": set(), "count": 0})
        if record["status"] not in row["statuses"]:
            row["statuses"].add(record["status"])
            row["count"] += 1
        row["status"] = record["status"]

    def do_GET(self) -> None:
        with self.lock:
            lines = [
                json.dumps(
                    {"message_id": m, "status": row["status"], **({"reports": row["count"]} if self.counts else {})}
                )
                for m, row in self.stored.items()
            ]
        body = "\n".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Losing(_Storing):
    """Answers 200 to everything but never stores a message whose id ends in 7: a tenth of them are lost."""

    def store(self, record: dict[str, Any]) -> None:
        if not record["message_id"].endswith("7"):
            super().store(record)


class _CountingRetries(_Storing):
    """Counts every delivery of a report, so a retry is processed again."""

    def store(self, record: dict[str, Any]) -> None:
        row = self.stored.setdefault(record["message_id"], {"statuses": set(), "count": 0})
        row["count"] += 1
        row["status"] = record["status"]


class _CountingRetriesUnread(_CountingRetries):
    """Counts a retry again, but its reader gives no `reports` count: DLR-14 cannot be judged."""

    counts = False


def _reader(url: str) -> str:
    code = f"import urllib.request; print(urllib.request.urlopen({url + '/state'!r}).read().decode())"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))}


def _run(tmp_path: Path, handler: type[_Storing], *args: str, watch: bool = False) -> dict[str, Any]:
    """A load run with --state-cmd against ``handler``; with ``watch``, every process's command line meanwhile."""
    handler.stored.clear()
    handler.peers.clear()
    receiver = serve(handler)
    summary, junit = tmp_path / "s.json", tmp_path / "j.xml"
    command = [str(CLI), "load", "--target-url", receiver.url, "--state-cmd", _reader(receiver.url)]
    command += [*args, "--json", str(summary), "--junitxml", str(junit), "--html", str(tmp_path / "l.html")]
    try:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        command_lines: list[str] = []
        while watch and process.poll() is None:
            command_lines += _command_lines()
            time.sleep(0.2)
        output = process.communicate(timeout=180)[0]
    finally:
        receiver.stop()
    data = json.loads(summary.read_text("utf-8")) if summary.is_file() else {}
    return {
        "code": process.returncode,
        "output": output,
        "summary": data,
        "junit": junit.read_text("utf-8") if junit.is_file() else "",
        "command_lines": command_lines,
        "peers": set(handler.peers),
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
    run = _run(tmp_path, _Storing, "--rate", "40", "--duration", "4s")
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
    run = _run(tmp_path, _Losing, "--rate", "40", "--duration", "4s", "--state-timeout", "1")
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
    run = _run(tmp_path, _CountingRetries, "--rate", "100", "--duration", "6s", "--state-timeout", "1")
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
    command = [str(CLI), "load", "--rate", "10", "--duration", "30s", "--state-cmd", "echo 'no such table' >&2; exit 3"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "--state-cmd: the state reader (--state-cmd) exited with status 3" in done.stderr
    assert "no such table" in done.stderr
    assert time.monotonic() - started < 20  # no 30 s load was run
    assert not (tmp_path / "reports" / "load-summary.json").exists()


def test_secrets_never_reach_a_command_line(tmp_path: Path) -> None:
    """The target URL and header values go to Locust in its environment: ``ps`` shows every user command lines."""
    handler = _Storing
    handler.stored.clear()
    receiver = serve(handler)
    url = f"{receiver.url}?token={TOKEN}"
    summary = tmp_path / "s.json"
    command = [str(CLI), "load", "--target-url", url, "--header", f"Authorization: {BEARER}", "--processes", "2"]
    command += ["--rate", "20", "--duration", "4s", "--json", str(summary), "--junitxml", str(tmp_path / "j.xml")]
    command += ["--html", str(tmp_path / "l.html")]
    try:
        process = subprocess.Popen(command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, text=True)
        seen: list[str] = []
        while process.poll() is None:
            seen += [line for line in _command_lines() if "locust" in line]
            time.sleep(0.1)
        output = process.communicate(timeout=60)[0]
    finally:
        receiver.stop()
    assert process.returncode == 0, output[-3000:]
    assert any("-m locust" in line for line in seen), "no Locust process was seen: the check proves nothing"
    assert not [line for line in seen if TOKEN in line or BEARER in line]
    assert json.loads(summary.read_text("utf-8"))["requests_sent"] >= 60
    assert handler.stored, "the callbacks did not reach the receiver"


def test_connections_sets_how_many_users_send_the_rate(tmp_path: Path) -> None:
    run = _run(tmp_path, _Storing, "--rate", "40", "--duration", "3s", "--connections", "2")
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
    assert [p.message_id for p in lost_reports(ledger, {"m2": rows["m2"]}, prepared=False)] == ["m1"]


def test_without_a_reports_count_dlr_14_is_not_checked_never_passed(tmp_path: Path) -> None:
    """A reader that gives no `reports` count cannot show a retry processed twice: DLR-14 is said not checked."""
    run = _run(tmp_path, _CountingRetriesUnread, "--rate", "40", "--duration", "3s", "--state-timeout", "1")
    summary = run["summary"]
    assert _requirement(summary, "DLR-13")["status"] == "passed", run["output"][-3000:]
    twice = _requirement(summary, "DLR-14")
    assert twice["status"] == "not_checked"
    assert twice["failures"] == 0
    assert "the reader gives no `reports` count" in twice["note"]
    assert "DLR-14 not checked" in run["output"]
    assert "DLR-14 passed" not in run["output"]
