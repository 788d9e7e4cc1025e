"""The ledger: per message, the distinct reports the run sent and the answers they got.

Kept only while a state reader is configured (without one it keeps nothing); the stored-state checks
(:mod:`conformance.checks.stored`) compare its :class:`~conformance.checks.stored.Message`\\ s with what the
reader returned.
"""

from __future__ import annotations

import threading
from typing import Any

from conformance.checks.stored import Message


class Ledger:
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

    def request(self, run_id: str) -> dict[str, Any]:
        """What the reader is asked: the run id, every message id and every api_job_id acknowledged."""
        with self._lock:
            ids = [m.message_id for m in self.messages.values() if m.acknowledged]
            return {"run_id": run_id, "message_ids": ids, "api_job_ids": list(self.api_job_ids)}

    def acknowledged(self) -> list[Message]:
        """The messages of which at least one report was answered 200."""
        with self._lock:
            return [m for m in self.messages.values() if m.acknowledged]


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
