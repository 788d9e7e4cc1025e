"""The ledger: per message, the distinct reports a run sent and the answers they got -- the one record of what was
sent that the stored-state checks compare with what the reader returns.

Two forms of it, both read by the comparisons of :mod:`conformance.checks.stored` through ``acknowledged()``:

* :class:`Ledger`, the suite's: every report whole (the newest status and the values are compared field by field).
  Kept only while a state reader is configured (without one the run keeps none).
* :class:`CompactLedger`, the load's: at campaign scale only what its requirements need (nothing lost, processed
  once) -- per message a short list (its ``api_job_id``, whether a callback carrying it was not answered 200, then
  each status with the number of copies answered 200), about 300 bytes; the
  :class:`~conformance.checks.stored.Message` objects the comparisons read are built one at a time. The Locust
  processes write it as lines (:class:`LedgerLines`, one line per report of every callback delivered);
  :meth:`CompactLedger.read` reads the file after the load.

A callback not answered 200 -- or whose answer never came (the load ended while it was in flight, the deadline
passed) -- makes its messages *doubtful*: the receiver may or may not have processed it, so whether it was processed
once, and the comparisons of values, are not judged for them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from conformance.checks.stored import Message

__all__ = ["CompactLedger", "Ledger", "LedgerLines", "prepare_records"]

DOUBTFUL = "a callback carrying it was not answered 200 within the deadline: its state is undefined"
FLUSH = 10_000  # ledger lines a process keeps before appending them to the file


class _Asked:
    """What the reader is asked about a ledger's messages (both forms ask the same question)."""

    def acknowledged_ids(self) -> tuple[list[str], list[str]]:
        """Every message id and every api_job_id of which at least one report was answered 200."""
        raise NotImplementedError

    def request(self, run_id: str) -> dict[str, Any]:
        """What the reader is asked: the run id, every message id and every api_job_id acknowledged."""
        message_ids, api_job_ids = self.acknowledged_ids()
        return {"run_id": run_id, "message_ids": message_ids, "api_job_ids": api_job_ids}


class Ledger(_Asked):
    """Per message, the reports the run sent and the answers they got; thread-safe."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.api_job_ids: dict[str, None] = {}
        self._lock = threading.Lock()

    def note(self, payload: Any, status: int | None, case: str = "") -> None:
        """Remember every record of one delivered callback and whether it was answered 200."""
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            return
        top = {k: payload[k] for k in ("api_job_id", "client_job_id") if k in payload}
        with self._lock:
            for record in payload["data"]:
                if not isinstance(record, dict) or not isinstance(record.get("message_id"), str):
                    continue
                message = self.messages.get(record["message_id"])
                if message is None:
                    message = self.messages[record["message_id"]] = Message(record["message_id"], case=case)
                report = {**top, **record}
                sent_status = str(record.get("status"))
                known = message.reports.get(sent_status)
                if known is None:
                    message.reports[sent_status] = report
                elif known != report:
                    message.doubtful = (
                        f"status {sent_status} was sent twice with different content, which the platform never does"
                    )
                if status != 200:
                    message.doubtful = message.doubtful or (
                        f"a callback carrying it was answered {status or 'nothing'}, not 200: its state is undefined"
                    )
                    continue
                message.acknowledged = True
                if sent_status not in message.copies:
                    message.order.append(sent_status)
                message.copies[sent_status] = message.copies.get(sent_status, 0) + 1
                if isinstance(top.get("api_job_id"), str):
                    self.api_job_ids[top["api_job_id"]] = None

    def acknowledged_ids(self) -> tuple[list[str], list[str]]:
        """Every message id and every api_job_id of which at least one report was answered 200."""
        with self._lock:
            return [m.message_id for m in self.messages.values() if m.acknowledged], list(self.api_job_ids)

    def acknowledged(self) -> list[Message]:
        """The messages of which at least one report was answered 200."""
        with self._lock:
            return [m for m in self.messages.values() if m.acknowledged]


class CompactLedger(_Asked):
    """Per message of a load run, the reports sent and how many copies of each were answered 200."""

    def __init__(self) -> None:
        # message_id -> [api_job_id, doubtful, status, copies answered 200, status, copies, ...]
        self._messages: dict[str, list[Any]] = {}
        self.api_job_ids: dict[str, None] = {}
        self.lines = 0

    @classmethod
    def read(cls, path: Path) -> CompactLedger:
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

    def acknowledged_ids(self) -> tuple[list[str], list[str]]:
        """Every message id and every api_job_id of which at least one report was answered 200."""
        messages = [m for m, entry in self._messages.items() if any(entry[i + 1] for i in range(2, len(entry), 2))]
        return messages, list(self.api_job_ids)


class LedgerLines:
    """The compact ledger as a load process writes it: one line per report of every callback delivered
    (``api_job_id``, ``message_id``, ``status``, answered 200 in time or not), buffered, appended to ``path``.

    A Locust worker has no file (``path`` empty): it sends its lines to the master with its statistics
    (:meth:`drain`), and the master appends them to its own (:meth:`extend`)."""

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.lines: list[str] = []

    @staticmethod
    def line(api_job_id: str, message_id: str, status: str, ok: bool) -> str:
        """One report of one delivered callback, as the file holds it (what :meth:`CompactLedger.read` reads)."""
        return f"{api_job_id}\t{message_id}\t{status}\t{1 if ok else 0}\n"

    def add(self, sent: Iterable[tuple[str, str, str]], ok: bool) -> None:
        """The reports ``(api_job_id, message_id, status)`` of one callback, and whether it was answered 200."""
        self.extend(self.line(job, message, status, ok) for job, message, status in sent)

    def extend(self, lines: Iterable[str]) -> None:
        """Lines of this process or of a worker; appended to the file once enough are kept."""
        self.lines.extend(lines)
        if self.path and len(self.lines) >= FLUSH:
            self.flush()

    def drain(self) -> list[str]:
        """The lines kept so far, forgotten here (a worker sends them to the master)."""
        lines, self.lines = self.lines, []
        return lines

    def flush(self) -> None:
        """Append the lines kept so far to the file."""
        if self.path and self.lines:
            with open(self.path, "a", encoding="utf-8") as file:
                file.writelines(self.drain())


def prepare_records(payload: Any) -> list[dict[str, Any]]:
    """The messages of a callback as the preparer gets them."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return []
    out = []
    for record in payload["data"]:
        if isinstance(record, dict) and isinstance(record.get("message_id"), str):
            out.append(
                {
                    "message_id": record["message_id"],
                    "api_job_id": payload.get("api_job_id"),
                    "to": record.get("to"),
                    "client_message_id": record.get("client_message_id"),
                    "client_job_id": payload.get("client_job_id"),
                    "type": record.get("type"),
                }
            )
    return out
