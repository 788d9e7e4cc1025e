"""``dlr-conformance stored --db FILE``: what the reference receiver stored, as a state reader prints it.

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
line on standard error.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from typing import Any

from conformance.options import UsageParser
from conformance.receiver import Store

__all__ = ["main", "prepare", "read", "reader_command"]


def reader_command(db: str) -> str:
    """The state reader of a reference receiver storing into ``db``: this command, run with this interpreter."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m conformance.cli stored --db {shlex.quote(db)}"


PROG = "dlr-conformance stored"


class _BadInput(Exception):
    """The input on standard input is not what the reader or preparer expects."""


def _ids(request: dict[str, Any], key: str) -> list[str]:
    value = request.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _BadInput(f"{key!r} must be a list of strings")
    return value


def read(store: Store, request: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The reader's rows for ``request`` (the reader's input as a dict; None or no ids: every message)."""
    request = request or {}
    return store.messages(_ids(request, "message_ids"), _ids(request, "api_job_ids"))


def prepare(store: Store, request: dict[str, Any]) -> int:
    """Record the preparer input's messages as sent; returns how many were new."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise _BadInput("'messages' must be a list of objects")
    for i, message in enumerate(messages):
        if not isinstance(message.get("message_id"), str) or not message["message_id"]:
            raise _BadInput(f"messages[{i}] has no message_id string")
    return store.prepare(messages)


def _request() -> dict[str, Any]:
    text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read().decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise _BadInput(f"standard input is not JSON ({exc})") from None
    if not isinstance(request, dict):
        raise _BadInput("standard input must be one JSON object")
    return request


def main(argv: list[str]) -> int:
    """Run ``dlr-conformance stored``; returns the exit code."""
    parser = UsageParser(
        prog=PROG,
        description="Print what the reference receiver (dlr-conformance serve --db FILE) stored, one JSON object "
        "per message, as a state reader for --state-cmd; with --prepare, record messages as sent (a preparer).",
        epilog='Reader input on stdin: {"run_id": ..., "message_ids": [...], "api_job_ids": [...]} (empty: '
        "every message). Output: JSON Lines with message_id, status, reports and the newest report's fields. "
        "Exit codes: 0 done, 2 interrupted, 3 internal error, 4 usage error.",
    )
    parser.add_argument("--db", required=True, metavar="FILE", help="the SQLite file that serve --db writes")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help='read {"run_id": ..., "messages": [...]} and record those messages as sent (for --prepare-cmd)',
    )
    ns = parser.parse_args(argv)
    if not ns.prepare and not os.path.isfile(ns.db):
        print(f"{PROG}: error: no database at {ns.db!r}; give the file that 'serve --db' writes.", file=sys.stderr)
        return 4
    try:
        request = _request()
        store = Store(ns.db)
        try:
            if ns.prepare:
                prepare(store, request)
                return 0
            rows = read(store, request)
        finally:
            store.close()
        out = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        sys.stdout.buffer.write(out.encode("utf-8"))
        sys.stdout.flush()
    except _BadInput as exc:
        print(f"{PROG}: error: {exc}.", file=sys.stderr)
        return 4
    except sqlite3.Error as exc:
        print(f"{PROG}: error: cannot read {ns.db!r} as a reference receiver database ({exc}).", file=sys.stderr)
        return 4
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 2
    return 0
