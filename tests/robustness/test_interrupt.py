"""Ctrl-C (SIGINT) to the installed command: exit 2, and all three reports written, verdict interrupted, with what ran
so far."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.process import Process
from tests.support.runs import SuiteRun, finish_suite, start_suite
from tests.support.servers import Arrival, Recorder, Reply

TIMEOUT = 2.0


def _slow(arrival: Arrival, index: int) -> Reply:
    time.sleep(0.3)
    return 200, {}, b""


def _interrupt_after(process: Process, receiver: Recorder, arrivals: int, folder: Path) -> SuiteRun:
    for _ in range(1200):  # at most a minute
        if len(receiver.arrivals) >= arrivals or process.proc.poll() is not None:
            break
        time.sleep(0.05)
    assert len(receiver.arrivals) >= arrivals, "the run never got going"
    process.interrupt()
    interrupted = time.monotonic()
    run = finish_suite(process, folder, limit=120)
    assert time.monotonic() - interrupted <= TIMEOUT + 15, "the run did not stop soon after Ctrl-C"
    return run


def _assert_complete_reports(run: SuiteRun, receiver: Recorder) -> dict[str, object]:
    assert run.code == 2, run.stdout[-3000:] + run.stderr
    assert "Traceback" not in run.stderr
    summary = run.summary
    assert summary["verdict"] == "interrupted"
    assert 0 < len(receiver.arrivals) <= summary["requests_sent"]
    junit = run.junit
    assert junit.tag in {"testsuites", "testsuite"}
    report = run.html_text()
    assert report.rstrip().endswith("</html>")
    assert "INTERRUPTED" in report
    assert summary["run_id"] in report
    assert "verdict: INTERRUPTED" in run.stdout
    return summary


@pytest.mark.parametrize(
    ("selection", "arrivals"),
    [
        pytest.param(["-k", "case_answered"], 6, id="during-the-contract-cases"),
        pytest.param(["-k", "generated", "--examples", "300"], 8, id="during-the-generated-check"),
    ],
)
def test_interrupt_writes_all_reports(
    selection: list[str], arrivals: int, recorder: Callable[..., Recorder], tmp_path: Path
) -> None:
    """SIGINT while requests are being answered slowly: exit 2, three complete reports, verdict interrupted."""
    receiver = recorder(_slow)
    args = ("--timeout", f"{TIMEOUT:g}", "--concurrency", "20", *selection)
    with start_suite(tmp_path, receiver.url, *args) as process:
        run = _interrupt_after(process, receiver, arrivals, tmp_path)
    summary = _assert_complete_reports(run, receiver)
    if "case_answered" in selection:
        tests = summary["tests"]
        assert isinstance(tests, dict)
        assert tests["passed"] >= 1
