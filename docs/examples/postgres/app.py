"""An example delivery-report receiver of the kind customers run: a small WSGI app storing into PostgreSQL.

It only updates messages the application sent; a report for a ``message_id`` it does not know yet is answered
200 and kept (``dlr_early_report``) until the message is created, when ``prepare.sql`` applies it (the platform
can report before the send request's answer was stored). It processes each distinct report once
(``dlr_report``'s primary key makes a retry a no-op), keeps the status of the newest report (by ``timestamp``,
then ``micro_timestamp``) whatever order reports arrive in, and stores a batch in one transaction, in a few round
trips whatever its size. Schema: ``schema.sql``; its state reader and preparer: ``reader.sql`` and ``prepare.sql``
(one ``psql`` command each, see docs/how-to/state.md).

    DATABASE_URL=postgresql://... python app.py 8080     # serves POST /dlr on 127.0.0.1:8080
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import psycopg

EARLY_LOCK = 4242  # the advisory lock prepare.sql holds while it creates messages and applies early reports

# One known record: processed once (dlr_report's primary key makes a retry insert nothing, and then nothing is
# updated), its values kept if it is the newest report of its message. The message row is locked already.
APPLY = """
WITH first AS (
    INSERT INTO dlr_report (message_id, status) VALUES (%(message_id)s, %(status)s)
    ON CONFLICT DO NOTHING RETURNING message_id
)
UPDATE dlr_message SET
    reports = reports + 1,
    status = CASE WHEN newer THEN %(status)s ELSE status END,
    "timestamp" = CASE WHEN newer THEN %(timestamp)s ELSE "timestamp" END,
    micro_timestamp = CASE WHEN newer THEN %(micro_timestamp)s ELSE micro_timestamp END,
    error_code = CASE WHEN newer THEN %(error_code)s ELSE error_code END,
    sender = CASE WHEN newer THEN %(sender)s ELSE sender END,
    api_job_id = CASE WHEN newer THEN %(api_job_id)s ELSE api_job_id END,
    client_job_id = CASE WHEN newer THEN %(client_job_id)s ELSE client_job_id END,
    client_message_id = CASE WHEN newer THEN %(client_message_id)s ELSE client_message_id END,
    type = CASE WHEN newer THEN %(type)s ELSE type END
FROM (SELECT status IS NULL OR ("timestamp", micro_timestamp) <= (%(timestamp)s, %(micro_timestamp)s) AS newer
      FROM dlr_message WHERE message_id = %(message_id)s) AS n
WHERE message_id = %(message_id)s AND EXISTS (SELECT FROM first)
"""


def _text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: it is stored as U+FFFD rather than failing the whole report."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _report(callback: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """One record of a callback, as the columns it updates."""
    record = {key: _text(value) for key, value in raw.items()}
    return {
        "message_id": str(record.get("message_id")),
        "status": str(record.get("status")),
        "timestamp": record.get("timestamp"),
        "micro_timestamp": record.get("micro_timestamp"),
        "error_code": record.get("error_code"),
        "sender": record.get("from") or record.get("sms_from") or record.get("viber_from") or None,
        "api_job_id": callback.get("api_job_id"),
        "client_job_id": callback.get("client_job_id") or None,
        "client_message_id": record.get("client_message_id"),
        "type": record.get("type"),
    }


def store(conn: psycopg.Connection[Any], callback: dict[str, Any]) -> None:
    """Apply every record of one callback, in one transaction, in a few round trips whatever its size."""
    callback = {key: _text(value) for key, value in callback.items()}
    reports = [_report(callback, raw) for raw in callback.get("data") or []]
    with conn.transaction(), conn.cursor() as cur:
        # shared with other callbacks, exclusive to prepare.sql: a message is never created between the check
        # below and the keeping of an early report for it
        cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", (EARLY_LOCK,))
        # the batch's messages, locked in one order (two callbacks on the same messages wait, never deadlock)
        ids = sorted({report["message_id"] for report in reports})
        cur.execute("SELECT message_id FROM dlr_message WHERE message_id = ANY(%s) ORDER BY 1 FOR UPDATE", (ids,))
        known = {row[0] for row in cur.fetchall()}
        # not a message we sent, or not yet: kept for prepare.sql, answered 200
        early = [r for r in reports if r["message_id"] not in known]
        # executemany sends each list in one go (pipeline mode), each statement run after the one before it
        cur.executemany(
            "INSERT INTO dlr_early_report (message_id, report) VALUES (%s, %s::jsonb)",
            [(r["message_id"], json.dumps(r)) for r in early],
        )
        cur.executemany(APPLY, [r for r in reports if r["message_id"] in known])


def application(url: str) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The WSGI app: POST a callback, get exactly 200 (a connection per request: keep the example short)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            start_response("405 Method Not Allowed", [("Content-Length", "0")])
            return [b""]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            callback = json.loads(body)
            if not isinstance(callback, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            start_response("400 Bad Request", [("Content-Length", "0")])
            return [b""]
        with psycopg.connect(url, autocommit=True) as conn:
            store(conn, callback)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    return app


def create_schema(url: str) -> None:
    """Create the tables (idempotent)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(Path(__file__).with_name("schema.sql").read_text(encoding="utf-8"))


if __name__ == "__main__":
    database = os.environ["DATABASE_URL"]
    create_schema(database)
    make_server("127.0.0.1", int(sys.argv[1]), application(database)).serve_forever()
