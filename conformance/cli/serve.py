"""``dlr-conformance serve``: run the reference receiver in the foreground as a listener, until Ctrl-C.

Point the platform at it (on a public host or through a tunnel), or ``send``, or the suite. Each request prints
one line on standard output, as it arrives::

    21:40:01 dlrc-1a2b3c4d-...: message 14466445287300014003 DELIVRD: valid
    21:40:02 0c6ccf37-...: message 1446... ENROUTE: INVALID: data[0].to: must be 7 to 15 digits, ... (got "0123")
    21:40:03 -: INVALID: $: not well-formed JSON at line 1, column 2: ... (answered 400: the body is not JSON)

What each body gets: a callback the receiver can store is answered 200 and stored, even when it breaks the
contract (it is printed ``INVALID``): the platform's real traffic may drift from its documentation, and a refusal
would only make the platform retry the very same body three times and then discard the report, which the receiver
could have used. What cannot be a delivery report at all (not JSON, not an object, ``data`` not a list of
objects, a record without ``message_id`` or ``status``, a list where a string belongs, an integer past 64 bits)
is answered 400 with the reason, and the store is untouched; a body over the cap gets 413 unread.

``--record FILE`` appends every body received to FILE as JSON Lines: ``{"time": ..., "content_type": ...,
"user_agent": ..., "answer": 200, "body": {...}}`` (``body_text`` instead of ``body`` when it is not JSON,
``body_base64`` when it is not even UTF-8). ``validate FILE`` checks such a capture line by line, and
``send --payload FILE`` replays it.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

from conformance.contract.schema import MalformedJSON, errors, parse
from conformance.options import UsageParser, positive_float, positive_int, report_path
from conformance.reference.receiver import Received, ReceiverServer

__all__ = ["Listener", "main"]

PROG = "dlr-conformance serve"
SHOWN_RECORDS = 5


def _port(text: str) -> int:
    """A TCP port number, 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 65535 (got {text!r})") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 65535 (got {text!r})")
    return value


def _verdict(payload: Any) -> str:
    problems = errors(payload)
    return "valid" if not problems else f"INVALID: {problems[0]}"


def _records(payload: Any) -> str:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return "no records"
    shown = [
        f"message {r.get('message_id')} {r.get('status')}" if isinstance(r, dict) else "a record that is no object"
        for r in data[:SHOWN_RECORDS]
    ]
    more = f" and {len(data) - SHOWN_RECORDS} more" if len(data) > SHOWN_RECORDS else ""
    return ", ".join(shown) + more if shown else "no records"


class Listener:
    """What ``serve`` does with each request: one line on the console, one line in the record file."""

    def __init__(self, out: IO[str], record: IO[str] | None = None) -> None:
        self._out = out
        self._record = record
        self._lock = threading.Lock()

    def __call__(self, received: Received) -> None:
        """Print (and record) one request as the receiver answered it."""
        clock = datetime.fromtimestamp(received.time).strftime("%H:%M:%S")
        answered = "" if received.status == 200 else f" (answered {received.status}: {received.problem})"
        if received.body is None:
            line, entry = f"{clock} -: body not read{answered}", None
        else:
            line, entry = self._describe(received, received.body)
            line = f"{clock} {line}{answered}"
        with self._lock:
            print(line, file=self._out, flush=True)
            if self._record is not None and entry is not None:
                self._record.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._record.flush()

    def _describe(self, received: Received, body: bytes) -> tuple[str, dict[str, Any]]:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(received.time, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "content_type": received.content_type,
            "user_agent": received.user_agent,
            "answer": received.status,
        }
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_base64"] = base64.b64encode(body).decode("ascii")
            return "-: INVALID: $: the body is not UTF-8", entry
        try:
            payload = parse(text)
        except MalformedJSON as exc:
            entry["body_text"] = text
            return f"-: INVALID: $: {exc}", entry
        entry["body"] = payload
        job = payload.get("api_job_id") if isinstance(payload, dict) else None
        return f"{job if isinstance(job, str) and job else '-'}: {_records(payload)}: {_verdict(payload)}", entry


def main(argv: list[str]) -> int:
    """Serve the reference receiver; returns the exit code (0 after Ctrl-C, 4 for bad arguments)."""
    parser = UsageParser(
        prog=PROG,
        description="Run the reference receiver as a listener: it answers 200 to every callback it can store and "
        "prints one line per request (valid, or INVALID: <path>: <problem> against the contract).",
        epilog="A body that breaks the contract but can be stored is answered 200 (and printed INVALID); what cannot "
        "be a delivery report is answered 400, a body over 8 MiB 413. Read what it stored with "
        "'dlr-conformance stored --db FILE'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port to listen on; 0 picks a free one (default: 8080)"
    )
    parser.add_argument("--db", default="dlr-reports.sqlite3", help="SQLite file (default: dlr-reports.sqlite3)")
    parser.add_argument(
        "--record",
        type=report_path,
        metavar="FILE",
        help="append every body received to FILE as JSON Lines (time, Content-Type, User-Agent, answer, body)",
    )
    parser.add_argument(
        "--request-timeout",
        type=positive_float,
        default=ReceiverServer.request_timeout,
        metavar="S",
        help="seconds a client has for a whole request, idle keep-alive wait included (default: "
        f"{ReceiverServer.request_timeout:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=positive_int,
        default=ReceiverServer.max_connections,
        metavar="N",
        help=f"connections served at once; more are answered 503 (default: {ReceiverServer.max_connections})",
    )
    ns = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    record: IO[str] | None = None
    if ns.record:
        try:
            record = open(ns.record, "a", encoding="utf-8")  # noqa: SIM115 -- open for the whole session
        except OSError as exc:
            print(
                f"{PROG}: error: cannot write {ns.record!r} ({exc.strerror}); give another --record path.",
                file=sys.stderr,
            )
            return 4
    try:
        server = ReceiverServer(
            ns.host,
            ns.port,
            ns.db,
            on_request=Listener(sys.stdout, record),
            max_connections=ns.max_connections,
            request_timeout=ns.request_timeout,
        )
    except sqlite3.Error as exc:
        print(f"{PROG}: error: cannot open the database {ns.db!r} ({exc}); give a writable --db path.", file=sys.stderr)
        return 4
    except (OSError, OverflowError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(
            f"{PROG}: error: cannot listen on {ns.host}:{ns.port} ({why}); choose another --host or --port.",
            file=sys.stderr,
        )
        return 4
    recording = f"; recording to {ns.record}" if ns.record else ""
    print(f"reference receiver listening on {server.url} (database {ns.db}{recording}); Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.store.close()
        if record is not None:
            record.close()
    return 0
