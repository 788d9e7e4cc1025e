"""One ledger and one poll loop: the suite's ledger and the load's compact one ask the reader the same question and
give the comparisons the same messages for the same deliveries; the suite's driver and the load read the stored
state back through the same loop (:func:`conformance.engine.store.poll`), each stopping at the first read that
holds. The readers here are plain functions (a fixture's reader is one): no HTTP is involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.checks.stored import lost_reports, misprocessed_retries
from conformance.engine import store
from conformance.engine.ledger import CompactLedger, Ledger, LedgerLines
from conformance.engine.run import EVIDENCE_CAP, Run
from conformance.load.stored import await_stored
from conformance.options import RunOptions
from conformance.reference.embedded import EmbeddedReceiver
from conformance.requirements import by_key, judged_by_load

# (api_job_id, message_id, status, answered 200): a retry of ENROUTE, a message whose second report got a 500
DELIVERIES = [
    ("job-1", "m1", "ACCEPTD", True),
    ("job-1", "m1", "ENROUTE", True),
    ("job-1", "m1", "ENROUTE", True),
    ("job-1", "m2", "ACCEPTD", True),
    ("job-1", "m2", "ENROUTE", False),
    ("job-2", "m3", "ACCEPTD", False),
]


def _both(tmp_path: Path) -> tuple[Ledger, CompactLedger]:
    suite = Ledger()
    lines = LedgerLines(str(tmp_path / "ledger.tsv"))
    for job, message, status, ok in DELIVERIES:
        suite.note({"api_job_id": job, "data": [{"message_id": message, "status": status}]}, 200 if ok else 500)
        lines.add([(job, message, status)], ok)
    lines.flush()
    return suite, CompactLedger.read(tmp_path / "ledger.tsv")


def test_both_forms_ask_the_same_question_and_judge_the_same_messages(tmp_path: Path) -> None:
    suite, compact = _both(tmp_path)
    assert (
        suite.request("r")
        == compact.request("r")
        == {
            "run_id": "r",
            "message_ids": ["m1", "m2"],
            "api_job_ids": ["job-1"],
        }
    )
    assert [(m.message_id, m.copies, bool(m.doubtful)) for m in suite.acknowledged()] == [
        (m.message_id, m.copies, bool(m.doubtful)) for m in compact.acknowledged()
    ]
    rows = {"m1": {"message_id": "m1", "status": "ENROUTE", "reports": 3}}
    for ledger in (suite, compact):
        assert [p.message_id for p in lost_reports(ledger, rows)] == ["m2"]
        assert [p.message_id for p in misprocessed_retries(ledger, rows)] == ["m1"]


def test_lines_kept_by_a_worker_reach_the_masters_file(tmp_path: Path) -> None:
    worker, master = LedgerLines(), LedgerLines(str(tmp_path / "ledger.tsv"))
    worker.add([("job", "m", "DELIVRD")], True)
    assert not (tmp_path / "ledger.tsv").exists()
    master.extend(worker.drain())
    assert worker.drain() == []
    master.flush()
    assert CompactLedger.read(tmp_path / "ledger.tsv").request("r")["message_ids"] == ["m"]


class _Eventually:
    """A reader that knows nothing for its first ``after`` reads, then every message asked for, stored right."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.reads = 0

    def __call__(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        self.reads += 1
        if self.reads <= self.after:
            return []
        return [{"message_id": m, "status": "ENROUTE", "reports": 2} for m in request["message_ids"]]


def test_the_loop_stops_at_the_first_read_that_holds() -> None:
    reader = _Eventually(after=2)
    polled = store.poll(reader, lambda: {"run_id": "r", "message_ids": ["a"]}, lambda rows: (len(rows), bool(rows)), 5)
    assert (polled.polls, polled.judged, reader.reads) == (3, 1, 3)
    assert polled.waited >= 2 * store.POLL_INTERVAL * 0.9
    never = store.poll(_Eventually(after=99), lambda: {"run_id": "r", "message_ids": []}, lambda r: (0, False), 0.6)
    assert never.polls >= 2
    assert never.waited >= 0.6
    only = store.poll(
        _Eventually(0),
        lambda: {"run_id": "r", "message_ids": ["a", "b"]},
        lambda r: (sorted(r), True),
        1,
        only=frozenset({"b"}),
    )
    assert only.judged == ["b"]


def test_the_suite_and_the_load_read_back_through_the_same_loop(tmp_path: Path) -> None:
    """Both wait for a reader that is right only on its third read, and both stop there."""
    _, compact = _both(tmp_path)
    reader = _Eventually(after=2)
    result = await_stored(reader, compact, "r", timeout=10)
    assert (result.polls, reader.reads) == (3, 3)
    assert [(j.id, j.status) for j in result.requirements] == [(r.id, "passed") for r in judged_by_load()]

    with EmbeddedReceiver() as receiver:
        run = Run(RunOptions(target_url=receiver.url, seed=1), receiver.url)
        try:
            run.keep_ledger("a reader")
            driver = run.driver(by_key("nothing_lost"), "loop")
            driver.deliver({"api_job_id": "dlrc-x", "data": [_record("m1")]})
            reader = _Eventually(after=2)
            outcome = driver.await_stored(reader)
        finally:
            run.close()
    assert outcome.passed
    assert reader.reads == 3
    assert "read 3 times" in driver.notes[-1]


def _record(message_id: str) -> dict[str, Any]:
    return {
        "type": "SMS",
        "message_id": message_id,
        "status": "ENROUTE",
        "timestamp": 1,
        "micro_timestamp": 1000,
        "to": "35699000000",
        "from": "x",
        "error_code": 0,
    }


def test_one_evidence_cap_for_the_suite_and_the_load(tmp_path: Path) -> None:
    """Past the cap every problem is counted and the first are kept, in the suite and in the load alike."""
    lines = LedgerLines(str(tmp_path / "ledger.tsv"))
    for i in range(EVIDENCE_CAP + 5):
        lines.add([("job", f"m{i}", "DELIVRD")], True)
    lines.flush()
    compact = CompactLedger.read(tmp_path / "ledger.tsv")

    def knows_one(request: dict[str, Any]) -> list[dict[str, Any]]:  # one known: the others are lost, not unknown
        return [{"message_id": "m0", "status": "DELIVRD", "reports": 1}]

    lost = await_stored(knows_one, compact, "r", timeout=0.1).requirements[0]
    assert (lost.status, lost.failures, len(lost.evidence)) == ("failed", EVIDENCE_CAP + 4, EVIDENCE_CAP)
