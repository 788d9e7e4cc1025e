"""The reference receiver: a correct delivery-report callback endpoint, short enough to copy.

What makes it correct, in the order a request meets it:

1. it answers ``200 OK`` to every well-formed callback -- not 201, 202 or 204, which the platform counts as
   failures and retries;
2. it reads fields tolerantly: optional fields may be absent or empty, the sender may come as ``from`` or as
   ``sms_from``/``viber_from``, and unknown statuses, types and extra fields are stored, never rejected;
3. it is idempotent: a report is stored once per (api_job_id, message_id, status), so the platform's retries
   of a callback that was already stored are answered 200 again instead of failing on a unique constraint;
4. it stores every record of a batch in one transaction, and answers fast under concurrency
   (a thread per connection, ``TCP_NODELAY``, SQLite in WAL mode).

It imports nothing of the conformance suite: it is an example, not part of the tester.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ReceiverServer", "Store"]

log = logging.getLogger("dlr_conformance.receiver")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_report (
    api_job_id        TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    status            TEXT NOT NULL,
    client_job_id     TEXT,
    client_message_id TEXT,
    type              TEXT,
    recipient         TEXT,
    sender            TEXT,
    error_code        INTEGER,
    timestamp         INTEGER,   -- 64-bit: the platform sends milliseconds here despite the documentation
    micro_timestamp   INTEGER,   -- 64-bit: microseconds, past 32 bits
    record            TEXT NOT NULL,  -- the record as received, unknown fields included
    received_at       TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (api_job_id, message_id, status)
)
"""


class Store:
    """Delivery reports in SQLite, each stored once; safe to share between threads."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    def add(self, callback: dict[str, Any]) -> int:
        """Store every record of one callback in one transaction; returns how many were new."""
        rows = [_row(callback, record) for record in callback.get("data") or [] if isinstance(record, dict)]
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            try:
                # INSERT OR IGNORE makes a retry of an already stored report a no-op, not an error.
                self._db.executemany(
                    "INSERT OR IGNORE INTO delivery_report (api_job_id, message_id, status, client_job_id, "
                    "client_message_id, type, recipient, sender, error_code, timestamp, micro_timestamp, record) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def count(self) -> int:
        """How many distinct reports are stored."""
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM delivery_report").fetchone()
        return int(n)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _row(callback: dict[str, Any], record: dict[str, Any]) -> tuple[Any, ...]:
    # .get everywhere: optional fields may be absent, and the sender comes in two forms.
    sender = record.get("from") or record.get("sms_from") or record.get("viber_from") or None
    return (
        str(callback.get("api_job_id", "")),
        str(record.get("message_id", "")),
        str(record.get("status", "")),  # any status, known or not: IM networks extend the SMPP set
        callback.get("client_job_id") or None,
        record.get("client_message_id"),
        record.get("type"),
        record.get("to"),
        sender,
        _int(record.get("error_code")),
        _int(record.get("timestamp")),
        _int(record.get("micro_timestamp")),
        json.dumps(record, ensure_ascii=False),
    )


def _int(value: Any) -> int | None:
    # SQLite INTEGER is 64-bit; keep what does not fit (or is not a number) only in the raw record.
    return value if isinstance(value, int) and -(2**63) <= value < 2**63 else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the platform may send many callbacks on one connection
    server: ReceiverServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            callback = json.loads(self.rfile.read(length))
            if not isinstance(callback, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            self._answer(400, b"expected a JSON object\n")
            return
        new = self.server.store.add(callback)
        records = len(callback.get("data") or [])
        log.info("stored %d of %d report(s) for api_job_id %r", new, records, callback.get("api_job_id"))
        self._answer(200, b"")  # exactly 200: the body is ignored by the platform

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class ReceiverServer(ThreadingHTTPServer):
    """The reference receiver as an HTTP server; ``url`` is where to point the platform."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 overflows under a burst of concurrent callbacks: the kernel drops or
    # resets the surplus connections, and a dropped SYN is retried only after a second.
    request_queue_size = 128

    def __init__(self, host: str = "127.0.0.1", port: int = 0, db: str = ":memory:") -> None:
        self.store = Store(db)
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        super().server_bind()
        # Nagle plus delayed ACK would add ~40 ms to every keep-alive answer.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    @property
    def url(self) -> str:
        """The callback URL of this receiver."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}/dlr"

    def start(self) -> ReceiverServer:
        """Serve in a daemon thread (for embedding and tests); returns self."""
        # a short poll interval: stop() waits for the serving loop to notice, up to one interval
        threading.Thread(target=self.serve_forever, args=(0.05,), name="dlr-reference-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        self.shutdown()
        self.server_close()
        self.store.close()
