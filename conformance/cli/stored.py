"""``dlr-conformance stored --db FILE``: what the reference receiver stored, as a state reader prints it."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from typing import Any

from conformance.options import UsageParser
from conformance.reference.reader import BadInput, prepare, read
from conformance.reference.receiver import Store

PROG = "dlr-conformance stored"


def _request() -> dict[str, Any]:
    text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read().decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"standard input is not JSON ({exc})") from None
    if not isinstance(request, dict):
        raise BadInput("standard input must be one JSON object")
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
    except BadInput as exc:
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
