"""Forged callbacks change nothing (DLR-20), judged by what the receiver stored: a receiver that stores a forged
report and then answers 401 fails with the stored row as evidence; one that checks its token first passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.runs import run_suite
from tests.support.stateful import StatefulReceiver

TOKEN = "Wk3nR8pX2vL6tQ9s"
FORGERY = ("-k", "DLR-20", "--state-timeout", "2")


def test_receiver_storing_before_refusing_fails_with_the_stored_row(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Every forgery is answered 401, yet the forged UNDELIV is stored: DLR-20 fails on the stored state alone."""
    receiver = stateful("store_then_401", token=TOKEN)
    run = run_suite(tmp_path, f"{receiver.url}?token={TOKEN}", *FORGERY, "--state-cmd", receiver.reader)
    assert run.code == 0, run.output[-3000:]  # a SHOULD
    assert run.failing_requirements == {"DLR-20"}, run.failure_text()[:3000]
    text = run.failure_text()
    assert "A forged callback changed the stored state" in text
    assert "stored status 'UNDELIV' after the forged callbacks; the genuine report was ENROUTE" in text
    assert "Accepted a forged callback" not in text  # every answer was a refusal
    stored_row = next(line for line in text.splitlines() if "Stored row:" in line)  # the evidence
    assert '"status": "UNDELIV"' in stored_row
    assert TOKEN not in run.output + run.html + run.json_path.read_text(encoding="utf-8")


def test_receiver_checking_its_token_first_passes_with_reader_and_preparer(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """A receiver that refuses before storing keeps the genuine status: DLR-20 passes, the genuine message
    prepared first like every other."""
    receiver = stateful("only_prepared", token=TOKEN)
    url = f"{receiver.url}?token={TOKEN}"
    run = run_suite(tmp_path, url, *FORGERY, "--state-cmd", receiver.reader, "--prepare-cmd", receiver.preparer)
    assert run.code == 0, run.output[-3000:]
    assert run.states()["DLR-20"] == "passed", run.failure_text()[:3000]
    assert run.summary["failure_count"] == 0
    assert "was not stored as such" not in run.output  # the stored state was compared
