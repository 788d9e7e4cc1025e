"""What the receiver stored after ``dlr-conformance load --state-cmd``: nothing acknowledged lost (DLR-13), retries
processed once (DLR-14), for every message of the load.

The Locust processes write one line per report of every callback they delivered (the *ledger*: ``api_job_id``,
``message_id``, ``status`` and whether the callback was answered 200 within the deadline; workers send theirs to the
master, which writes the file). After the load, :func:`check` reads that file into a :class:`LoadLedger` and polls
the state reader, as the suite does, until both requirements hold or ``--state-timeout`` has passed; the
comparisons are the suite's own (``state.iter_lost_reports`` and ``state.iter_misprocessed_retries``).

At campaign scale the ledger stays compact: per message a short list (its ``api_job_id``, whether a callback
carrying it was not answered 200, then each status with the number of copies answered 200), about 300 bytes; the
:class:`~conformance.state.Message` objects the comparisons read are built one at a time. Every problem is counted,
the first :data:`EVIDENCE` of each requirement are kept as evidence. A callback whose answer never came (the load
ended while it was in flight, or the deadline passed) makes its messages *doubtful*: the receiver may or may not
have processed it, so DLR-14 is not judged for them, as in the suite.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.checks.stored import Message, Problem, iter_lost_reports, iter_misprocessed_retries
from conformance.engine.store import Reader, read_rows
from conformance.requirements import by_id

__all__ = ["EVIDENCE", "LoadLedger", "StateResult", "check", "ledger_line"]

EVIDENCE = 20  # problems kept per requirement; every one is counted
POLL_INTERVAL = 0.25
DOUBTFUL = "a callback carrying it was not answered 200 within the deadline: its state is undefined"


def ledger_line(api_job_id: str, message_id: str, status: str, ok: bool) -> str:
    """One report of one delivered callback, as the ledger file holds it."""
    return f"{api_job_id}\t{message_id}\t{status}\t{1 if ok else 0}\n"


class LoadLedger:
    """Per message of a load run, the reports sent and how many copies of each were answered 200."""

    def __init__(self) -> None:
        # message_id -> [api_job_id, doubtful, status, copies answered 200, status, copies, ...]
        self._messages: dict[str, list[Any]] = {}
        self.api_job_ids: dict[str, None] = {}
        self.lines = 0

    @classmethod
    def read(cls, path: Path) -> LoadLedger:
        """The ledger a load run wrote (an absent file is an empty ledger)."""
        ledger = cls()
        if path.is_file():
            with path.open(encoding="utf-8") as file:
                for line in file:
                    parts = line.rstrip("\n").split("\t")
                    if len(parts) == 4:
                        ledger.add(parts[0], parts[1], parts[2], parts[3] == "1")
        return ledger

    def add(self, api_job_id: str, message_id: str, status: str, ok: bool) -> None:
        """One report of a delivered callback, answered 200 in time (``ok``) or not."""
        self.lines += 1
        entry = self._messages.get(message_id)
        if entry is None:
            entry = self._messages[message_id] = [api_job_id, False]
        if not ok:
            entry[1] = True
        for i in range(2, len(entry), 2):
            if entry[i] == status:
                entry[i + 1] += ok
                break
        else:
            entry += [status, int(ok)]
        if ok:
            self.api_job_ids[api_job_id] = None

    def acknowledged(self) -> Iterator[Message]:
        """The messages of which at least one report was answered 200, each built as it is asked for."""
        for message_id, entry in self._messages.items():
            copies = {entry[i]: entry[i + 1] for i in range(2, len(entry), 2) if entry[i + 1]}
            if not copies:
                continue
            reports = {
                entry[i]: {"api_job_id": entry[0], "message_id": message_id, "status": entry[i]}
                for i in range(2, len(entry), 2)
            }
            yield Message(
                message_id,
                reports=reports,
                copies=copies,
                order=list(copies),
                acknowledged=True,
                doubtful=DOUBTFUL if entry[1] else "",
                case="load",
            )

    def message_ids(self) -> list[str]:
        """The messages of which at least one report was answered 200."""
        return [m for m, entry in self._messages.items() if any(entry[i + 1] for i in range(2, len(entry), 2))]

    def request(self, run_id: str) -> dict[str, Any]:
        """What the reader is asked: as in the suite, the run id and every acknowledged message and job."""
        return {"run_id": run_id, "message_ids": self.message_ids(), "api_job_ids": list(self.api_job_ids)}


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
class StateResult:
    """The stored state after a load: the two requirements, and how it was read."""

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


def _judge(requirement: str, problems: Iterator[Problem]) -> Judged:
    judged = Judged(requirement)
    for problem in problems:
        judged.failures += 1
        if len(judged.evidence) < EVIDENCE:
            judged.evidence.append(problem)
    if judged.failures:
        judged.status = "failed"
    return judged


def check(reader: Reader, ledger: LoadLedger, run_id: str, timeout: float) -> StateResult:
    """Poll the reader until nothing acknowledged is lost and no retry was processed twice, or ``timeout`` passed.

    Raises :class:`~conformance.state.StateCommandError` when the reader fails.
    """
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    request = ledger.request(run_id)  # the load is over: the same question every poll
    asked = set(request["message_ids"])
    while True:
        rows = {str(r["message_id"]): r for r in read_rows(reader, request) if str(r["message_id"]) in asked}
        polls += 1
        lost = _judge("DLR-13", iter_lost_reports(ledger, rows, prepared=False))
        if any(isinstance(row.get("reports"), int) for row in rows.values()):
            twice = _judge("DLR-14", iter_misprocessed_retries(ledger, rows))
        else:
            twice = Judged("DLR-14", "not_checked", note="the reader gives no `reports` count")
        remaining = deadline - time.monotonic()
        if not (lost.failures or twice.failures) or remaining <= 0:
            break
        time.sleep(min(POLL_INTERVAL, remaining))
    return StateResult(len(asked), len(rows), polls, time.monotonic() - started, [lost, twice])
