"""What the receiver stored after ``dlr-conformance load --state-cmd``: the requirements ``load`` judges (the
catalogue says which: nothing acknowledged lost, retries processed once), for every message of the load.

The Locust processes write the compact ledger (:class:`~conformance.engine.ledger.LedgerLines`); after the load,
:func:`await_stored` reads it (:class:`~conformance.engine.ledger.CompactLedger`) and polls the state reader with
the engine's poll loop, as the suite does, until every requirement holds or ``--state-timeout`` has passed. The
comparisons are the suite's own (:mod:`conformance.checks.stored`), run one message at a time so that memory stays
small at campaign scale: every problem is counted, the first :data:`~conformance.engine.run.EVIDENCE_CAP` of each
requirement are kept as evidence. When the reader knows none of the messages, ``load`` says what the suite says
(:func:`~conformance.engine.store.nothing_known`): not checked, the receiver keeps only messages it sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.stored import (
    Problem,
    iter_lost_reports,
    iter_misprocessed_retries,
)
from conformance.engine.ledger import CompactLedger
from conformance.engine.run import EVIDENCE_CAP
from conformance.engine.store import Reader, nothing_known, poll
from conformance.requirements import Requirement, by_id, judged_by_load

__all__ = ["Judged", "StoredResult", "await_stored"]

Rows = Mapping[str, Mapping[str, Any]]
# the suite's scenario checks of the requirements load judges, one message at a time (a load has no preparer)
_STREAMED: dict[str, Callable[[CompactLedger, Rows], Iterator[Problem]]] = {
    "acknowledged_reports_are_stored": lambda ledger, rows: iter_lost_reports(ledger, rows),
    "retries_processed_once": iter_misprocessed_retries,
}
# a check that compares the reader's ``reports`` count is not checked when the reader gives none
_NEEDS_COUNT = frozenset({"retries_processed_once"})


@dataclass
class Judged:
    """One requirement's result over every message: passed, failed or not checked, the count, the evidence."""

    id: str
    status: str = "passed"
    failures: int = 0
    evidence: list[Problem] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        """For the JSON summary."""
        requirement = by_id(self.id)
        return {
            "id": self.id,
            "level": requirement.level,
            "title": requirement.title,
            "status": self.status,
            "failures": self.failures,
            "note": self.note,
            "evidence": [
                {"message_id": p.message_id, "text": p.text, "row": p.row, "reports_sent": list(p.reports)}
                for p in self.evidence
            ],
        }


@dataclass
class StoredResult:
    """The stored state after a load: each requirement load judges, and how it was read."""

    messages: int
    known: int
    polls: int
    waited_s: float
    requirements: list[Judged]

    @property
    def failed(self) -> bool:
        """Whether a report acknowledged with 200 was lost or processed twice."""
        return any(r.status == "failed" for r in self.requirements)

    def sentence(self) -> str:
        """One line: what was checked and what was found."""
        parts = []
        for judged in self.requirements:
            title = by_id(judged.id).title.lower()
            if judged.status == "failed":
                parts.append(f"{judged.id} failed for {judged.failures:,} messages ({title})")
            elif judged.status == "not_checked":
                parts.append(f"{judged.id} not checked ({judged.note})")
            else:
                parts.append(f"{judged.id} passed")
        return (
            f"{self.messages:,} messages answered 200, read back {self.polls} time{'s' if self.polls != 1 else ''} "
            f"in {self.waited_s:.1f} s (the reader knew {self.known:,}): " + "; ".join(parts)
        )

    def as_json(self) -> dict[str, Any]:
        """For the JSON summary."""
        return {
            "checked": True,
            "messages_acknowledged": self.messages,
            "messages_known_to_the_reader": self.known,
            "polls": self.polls,
            "waited_s": round(self.waited_s, 1),
            "requirements": [r.as_json() for r in self.requirements],
        }


def _judge(requirement: Requirement, ledger: CompactLedger, rows: Rows) -> Judged:
    """One requirement over every message, one message at a time: every problem counted, the first kept."""
    judged = Judged(requirement.id)
    counted = any(isinstance(row.get("reports"), int) for row in rows.values())
    for name in requirement.scenario_checks:
        if name in _NEEDS_COUNT and not counted:
            return Judged(requirement.id, "not_checked", note="the reader gives no `reports` count")
        for problem in _STREAMED[name](ledger, rows):
            judged.failures += 1
            if len(judged.evidence) < EVIDENCE_CAP:
                judged.evidence.append(problem)
    if judged.failures:
        judged.status = "failed"
    return judged


def _nothing_known(requirement: Requirement, acknowledged: int) -> Judged:
    """The reader knows none of the messages: what the suite says (not checked: the receiver keeps only messages it
    sent), with what ``load``, which creates no message, can do about it."""
    hint = (
        "load creates no message: judge the stored state with the suite and its --prepare-cmd, or give load a reader "
        "of the store where the receiver keeps reports for messages it does not know"
    )
    return Judged(requirement.id, "not_checked", note=nothing_known(acknowledged, prepared=False, hint=hint))


def await_stored(reader: Reader, ledger: CompactLedger, run_id: str, timeout: float) -> StoredResult:
    """Read the stored state until every requirement load judges holds, or ``timeout`` has passed.

    Raises :class:`~conformance.engine.store.StateCommandError` when the reader fails.
    """
    request = ledger.request(run_id)  # the load is over: the same question every poll
    asked = frozenset(request["message_ids"])
    requirements = judged_by_load()

    def judge(rows: dict[str, dict[str, Any]]) -> tuple[list[Judged], bool]:
        judged = [_judge(requirement, ledger, rows) for requirement in requirements]
        return judged, not any(j.failures for j in judged)

    polled = poll(reader, lambda: request, judge, timeout, only=asked)
    judged = polled.judged
    if asked and not polled.rows:
        judged = [_nothing_known(r, len(asked)) for r in requirements]
    return StoredResult(len(asked), len(polled.rows), polled.polls, polled.waited, judged)
