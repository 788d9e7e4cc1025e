"""``dlr-conformance load`` (in-process; Locust is its own process): held against the reference receiver, the
traffic as the platform sends it, broken by a receiver that rate-limits (the breaking rate reported), a master with
two workers on loopback, Locust's HTML report with its charts in headless Chromium, and the install hint without
Locust.

Rates and durations are small (tens of callbacks a second for a few seconds): these tests judge behaviour, not
speed; the figures are in bench/ and docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.contract import schema as contract
from tests.support.cli import LOAD_PIPE, invoke
from tests.support.process import CLI, Process, run
from tests.support.servers import Arrival, Recorder, Reply, closed_port

pytestmark = LOAD_PIPE  # load runs in-process (tests.support.cli.LOAD_PIPE)

TOKEN = "load-token-4b9e1d"
BEARER = "load-bearer-8c2f7a"


@dataclass
class LoadRun:
    """A finished ``dlr-conformance load`` run: exit code, console output and the three reports."""

    code: int
    output: str
    summary: dict[str, Any]
    junit: str
    html: Path


def _reports(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "load.html", tmp_path / "load.json", tmp_path / "load.xml"


def _load(tmp_path: Path, *args: str) -> LoadRun:
    html, summary, junit = _reports(tmp_path)
    done = invoke("load", *args, "--html", html, "--json", summary, "--junitxml", junit, cwd=tmp_path)
    output = done.output
    assert summary.is_file(), f"no JSON summary (exit code {done.code}):\n{output[-3000:]}"
    assert html.is_file(), f"no HTML report:\n{output[-3000:]}"
    return LoadRun(done.code, output, json.loads(summary.read_text("utf-8")), junit.read_text("utf-8"), html)


def _load_against(respond: Callable[[Arrival, int], Reply], tmp_path: Path, *args: str) -> LoadRun:
    """A load run against a receiver answering with ``respond``, served on loopback for the run."""
    with Recorder(respond) as receiver:
        return _load(tmp_path, "--target-url", receiver.url, *args)


def rate_limited(limit: int = 25) -> Callable[[Arrival, int], Reply]:
    """Answers 429 to every callback past ``limit`` in one clock second, like a public receiver seen in the wild."""
    counts: Counter[int] = Counter()
    lock = threading.Lock()

    def respond(arrival: Arrival, index: int) -> Reply:
        with lock:
            second = int(time.time())
            counts[second] += 1
            limited = counts[second] > limit
        return (429, {}, b"") if limited else (200, {}, b"")

    return respond


def slow(delay: float) -> Callable[[Arrival, int], Reply]:
    """Answers 200 after ``delay`` seconds, one callback at a time."""
    lock = threading.Lock()

    def respond(arrival: Arrival, index: int) -> Reply:
        with lock:
            time.sleep(delay)
        return 200, {}, b""

    return respond


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """One run against the bundled reference receiver, judged by two tests."""
    return _load(tmp_path_factory.mktemp("reference"), "--rate", "20", "--duration", "4s")


def test_the_reference_receiver_holds_a_modest_rate(reference_run: LoadRun) -> None:
    run = reference_run
    assert run.code == 0, run.output[-3000:]
    summary = run.summary
    assert summary["verdict"] == "held"
    assert summary["target"].startswith("http://127.0.0.1:")
    assert 60 <= summary["requests_sent"] <= 100
    assert summary["answers"] == {"200 OK": summary["requests_sent"]}
    assert summary["latency_s"]["p50"] is not None
    assert summary["latency_s"]["p99"] <= summary["latency_s"]["max"]
    assert 'failures="0"' in run.junit
    assert run.junit.count("<testcase ") == 1
    assert "HELD: Held 20 callbacks/s for 4 s" in run.output


def test_traffic_is_a_campaigns_delivered_like_the_platform(tmp_path: Path) -> None:
    with Recorder() as receiver:
        url = f"{receiver.url}?token={TOKEN}"
        run = _load(
            tmp_path, "--target-url", url, "--rate", "100", "--duration", "5s", "--header", f"Authorization: {BEARER}"
        )
    assert run.code == 0, run.output[-3000:]
    seen = [(arrival.headers, arrival.body) for arrival in receiver.arrivals]
    # a callback in flight when the load ended may have arrived without its answer being counted
    assert run.summary["requests_sent"] <= len(seen) <= run.summary["requests_sent"] + run.summary["cut_at_end"]
    assert run.summary["requests_sent"] >= 200
    run_id = run.summary["run_id"]
    for headers, _ in seen:
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["User-Agent"].endswith(f"(load test run {run_id})")
        assert headers["Authorization"] == BEARER
    payloads = [json.loads(body) for _, body in seen]
    assert all(contract.is_valid(p) for p in payloads), "a callback does not satisfy the contract"
    assert all(p["api_job_id"].startswith(f"dlrc-{run_id}-") for p in payloads)
    bodies = Counter(body for _, body in seen)
    # each callback is a retry with a chance of 2%: 500 carry none with a chance of 0.98^500, 4e-5
    assert 0 < sum(n - 1 for n in bodies.values()) < len(seen) * 0.1, "no retries, or too many"
    batches = sum(len(p["data"]) > 1 for p in payloads)
    assert 0 < batches < len(seen) * 0.3
    # progressions: every message's reports come in order, ACCEPTD, ENROUTE, then one final status
    reports: dict[str, list[str]] = {}
    for body in bodies:  # each distinct callback once (retries are copies)
        for record in json.loads(body)["data"]:
            reports.setdefault(record["message_id"], []).append(record["status"])
    finals = Counter()
    for statuses in reports.values():
        assert statuses[: min(2, len(statuses))] == ["ACCEPTD", "ENROUTE"][: len(statuses)], statuses
        assert len(statuses) <= 3
        if len(statuses) == 3:
            finals[statuses[2]] += 1
    assert finals["DELIVRD"] > sum(finals.values()) / 2, finals
    # secrets stay out of every output
    for text in (run.output, json.dumps(run.summary), run.junit, run.html.read_text("utf-8")):
        assert TOKEN not in text
        assert BEARER not in text
    assert run.summary["target"].endswith("/dlr?token=***")  # the value masked, the name kept


def test_a_rate_limiting_receiver_breaks_the_ramp(tmp_path: Path) -> None:
    run = _load_against(rate_limited(), tmp_path, "--rate", "10", "--ramp", "--step", "3s", "--duration", "30s")
    assert run.code == 1, run.output[-3000:]
    summary = run.summary
    assert summary["verdict"] == "not_held"
    assert summary["mode"] == "ramp"
    assert summary["highest_rate_held"] == 20.0
    assert summary["steps"][2]["rate"] == 30.0
    assert not summary["steps"][2]["held"]
    assert summary["answers"]["429 Too Many Requests"] > 0
    assert "holds 20 callbacks/s; at 30/s" in summary["explanation"]
    assert "429 Too Many Requests" in summary["explanation"]
    assert 'failures="1"' in run.junit
    assert "NOT HELD" in run.output


def test_a_rate_past_the_limit_is_not_held_and_says_when(tmp_path: Path) -> None:
    run = _load_against(rate_limited(), tmp_path, "--rate", "40", "--duration", "4s", "-q")
    assert run.code == 1, run.output[-3000:]
    assert run.summary["verdict"] == "not_held"
    assert run.summary["first_failure_after_s"] is not None
    assert "the receiver failed callbacks" in run.summary["explanation"]
    assert "answered 429 Too Many Requests" in run.summary["explanation"]
    assert run.output.count("\n") == 1, "-q prints only the verdict"


def test_a_slow_receiver_does_not_hold_the_rate(tmp_path: Path) -> None:
    # at most ~3 a second, every one answered 200
    run = _load_against(slow(0.3), tmp_path, "--rate", "10", "--duration", "4s", "--timeout", "5")
    assert run.code == 1, run.output[-3000:]
    assert run.summary["failed"] == 0
    assert "were sent and answered" in run.summary["explanation"]
    # no reader given: the stored state is said to be unknown, never silently left out
    assert run.summary["state"]["checked"] is False
    assert "--state-cmd" in run.summary["state"]["reason"]
    assert "stored state: not checked: no state reader was given" in run.output


def test_answers_past_the_deadline_fail(tmp_path: Path) -> None:
    run = _load_against(slow(1.5), tmp_path, "--rate", "2", "--duration", "3s", "--timeout", "1")
    assert run.code == 1, run.output[-3000:]
    assert run.summary["answers"].get("no complete answer within the 1 s deadline", 0) > 0
    assert run.summary["latency_s"]["max"] < 1.5  # the deadline ended each delivery


def test_ctrl_c_exits_2_with_the_reports_written(tmp_path: Path) -> None:
    html, summary, junit = _reports(tmp_path)
    command = [CLI, "load", "--rate", "10", "--duration", "60s", "--html", html, "--json", summary, "--junitxml", junit]
    with Process(command, cwd=tmp_path) as process:
        assert "callbacks/s for 60 s" in process.wait_for("callbacks/s")
        time.sleep(6)  # the templates are drawn and Locust is sending
        process.interrupt()
        done = process.wait(60)  # it ends
    assert done.code == 2, done.output[-2000:]
    data = json.loads(summary.read_text("utf-8"))
    assert data["verdict"] == "interrupted"
    assert "<error " in junit.read_text("utf-8")
    assert "Locust Test Report" in html.read_text("utf-8") or html.stat().st_size > 10_000
    assert "INTERRUPTED" in done.stdout


def test_a_master_and_two_workers_on_loopback(tmp_path: Path) -> None:
    port = str(closed_port())
    worker = [CLI, "load", "--worker", "--master-host", "127.0.0.1", "--master-port", port]
    with Recorder() as receiver:
        workers = [Process(worker, cwd=tmp_path) for _ in range(2)]
        try:
            run = _load(
                tmp_path,
                *("--target-url", receiver.url, "--rate", "40", "--duration", "5s"),
                *("--master", "--expect-workers", "2", "--master-bind-port", port),
            )
            codes = [w.wait(60).code for w in workers]
        finally:
            for w in workers:
                w.kill()
    assert run.code == 0, run.output[-3000:]
    assert codes == [0, 0]
    assert run.summary["worker_processes"] == 2
    sent = run.summary["requests_sent"]
    assert sent <= len(receiver.arrivals) <= sent + run.summary["cut_at_end"]
    assert sent >= 120
    assert len({json.loads(body)["data"][0]["message_id"][:12] for body in receiver.bodies}) >= 2


@pytest.mark.browser
def test_the_html_report_shows_locusts_charts(reference_run: LoadRun) -> None:
    chromium = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is not installed; CI must install it (scripts/test.sh)", pytrace=False)
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    loaded = reference_run
    with tempfile.TemporaryDirectory(prefix="dlr-chromium-") as profile:
        done = run(
            [
                chromium,
                *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"),
                *("--virtual-time-budget=8000", f"--user-data-dir={profile}", "--dump-dom", loaded.html.as_uri()),
            ],
            env=os.environ,
            timeout=120,
        )
    dom = done.stdout
    assert "</html>" in dom, done.stderr[-2000:]
    assert "Locust Test Report" in dom
    assert ">Charts<" in dom
    assert dom.count("<canvas") >= 3, "the charts were not drawn"  # requests/s, response times, users
    assert loaded.summary["target"] in dom


def test_without_locust_it_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "locust", None)  # what an import of an absent module finds
    done = invoke("load", "--rate", "5", cwd=tmp_path)
    assert done.code == 4
    # the package is on no index: the hint installs the extra from a checkout or from the git URL
    assert "pip install '.[load]' in a checkout, or 'dlr-conformance[load] @ git+URL@TAG'" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_errors_are_one_line_and_exit_4(tmp_path: Path) -> None:
    for args, expected in (
        (("--duration", "5x"), "--duration must be a duration such as 90s, 10m or 1h (got '5x')"),
        (("--rate", "0"), "--rate must be a number greater than 0"),
        (("--master", "--worker"), "--master and --worker exclude each other"),
    ):
        done = invoke("load", *args, cwd=tmp_path)
        assert done.code == 4, done.stderr
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
