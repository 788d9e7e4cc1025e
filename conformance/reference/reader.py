"""The reference receiver's state reader and preparer (``dlr-conformance stored``): its rows as a reader prints them.

It reads the reader's input on standard input, ``{"run_id": "...", "message_ids": [...], "api_job_ids": [...]}``
(empty input, or no ids: every message), and prints JSON Lines, one object per message the receiver knows
(a report was processed for it): ``message_id``, ``status`` (the current one: of the newest report),
``reports`` (how many distinct reports were processed) and the fields of the newest report under the
callback's own names (``api_job_id``, ``client_job_id``, ``type``, ``to``, ``from``, ``sms_from``,
``viber_from``, ``timestamp``, ``micro_timestamp``, ``error_code``, ``client_message_id``); a field the report
did not carry is left out. A message matches when its ``message_id`` or its ``api_job_id`` is asked for.

With ``--prepare`` it is a preparer instead: it reads ``{"run_id": "...", "messages": [...]}`` and records each
message (``message_id``, ``api_job_id``, ``to``, ``client_message_id``, ``client_job_id``, ``type``) as sent,
with no report yet; it prints nothing.

Exit codes: 0 done, 2 interrupted, 3 internal error, 4 usage error (bad input, no such database), with one
line on standard error."""

from __future__ import annotations

import sys
from typing import Any

from conformance.reference.receiver import Store


class BadInput(Exception):
    """The input on standard input is not what the reader or preparer expects."""


def reader_command(db: str) -> str:
    """The state reader of a reference receiver storing into ``db``: this command, run with this interpreter."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m conformance.cli stored --db {shlex.quote(db)}"


def _ids(request: dict[str, Any], key: str) -> list[str]:
    value = request.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadInput(f"{key!r} must be a list of strings")
    return value


def read(store: Store, request: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The reader's rows for ``request`` (the reader's input as a dict; None or no ids: every message)."""
    request = request or {}
    return store.messages(_ids(request, "message_ids"), _ids(request, "api_job_ids"))


def prepare(store: Store, request: dict[str, Any]) -> int:
    """Record the preparer input's messages as sent; returns how many were new."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise BadInput("'messages' must be a list of objects")
    for i, message in enumerate(messages):
        if not isinstance(message.get("message_id"), str) or not message["message_id"]:
            raise BadInput(f"messages[{i}] has no message_id string")
    return store.prepare(messages)
