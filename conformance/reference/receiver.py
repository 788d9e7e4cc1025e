"""The reference receiver: a correct delivery-report callback endpoint, short enough to copy.

What makes it correct, in the order a request meets it:

1. it faces the internet: a body over :data:`MAX_BODY` is refused with 413 unread, what cannot be a delivery
   report at all (not JSON, not an object, ``data`` not a list of objects, a record without ``message_id`` or
   ``status``, a list where a string belongs, an integer past 64 bits) gets 400 and leaves the store untouched,
   every request must arrive within :attr:`ReceiverServer.request_timeout`, connections are bounded, and no
   request ever ends in a traceback;
2. it answers ``200 OK`` to every callback it can store -- not 201, 202 or 204, which the platform counts as
   failures and retries;
3. it reads fields tolerantly: optional fields may be absent or empty, the sender may come as ``from`` or as
   ``sms_from``/``viber_from``, and unknown statuses, types and extra fields are stored, never rejected;
4. it keeps each message's state: the current status is the one of the report with the newest
   ``micro_timestamp`` (then ``timestamp``), so an older report arriving late never overwrites a newer one; the
   fields of that report are kept as received; ``reports`` counts the distinct reports processed. The platform
   never sends the same message and status with different content, so (message_id, status) identifies a report:
   a retry of one already processed -- sequential, or concurrent copies -- is answered 200 and not counted again
   (the check and the insert are one atomic step);
5. it stores a batch in one transaction, and answers fast under concurrency (a thread per connection,
   ``TCP_NODELAY``, SQLite in WAL mode).

It imports nothing of the conformance suite: it is an example, not part of the tester.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FIELDS", "MAX_BODY", "BadCallback", "Received", "ReceiverServer", "Store", "parse_callback"]

log = logging.getLogger("dlr_conformance.receiver")

MAX_BODY = 8 * 1024 * 1024  # ~25,000 records; the platform documents no maximum, a listener needs one
MAX_DEPTH = 32  # nesting of the JSON body; a callback needs 3, unknown fields a few more
STRINGS = ("api_job_id", "client_job_id", "type", "to", "from", "sms_from", "viber_from", "client_message_id")
INTEGERS = ("timestamp", "micro_timestamp", "error_code")
FIELDS = ("message_id", "status", *STRINGS, *INTEGERS)
"""The columns of a message's state, named as in the callback (api_job_id and client_job_id from its top)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS report (    -- every distinct report, once: the key of idempotency
    message_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    api_job_id  TEXT,
    record      TEXT NOT NULL,         -- the record as received, unknown fields included
    received_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (message_id, status)
);
CREATE TABLE IF NOT EXISTS message (   -- per message, its current state: the fields of its newest report
    message_id        TEXT PRIMARY KEY,
    status            TEXT,            -- NULL: sent (prepared) and no report yet
    reports           INTEGER NOT NULL DEFAULT 0,
    api_job_id        TEXT,
    client_job_id     TEXT,
    type              TEXT,
    "to"              TEXT,
    "from"            TEXT,
    sms_from          TEXT,
    viber_from        TEXT,
    client_message_id TEXT,
    timestamp         INTEGER,         -- 64-bit: the platform sends milliseconds here despite the documentation
    micro_timestamp   INTEGER,         -- 64-bit: microseconds, past 32 bits
    error_code        INTEGER
);
"""
_STATE = """message_id, status, api_job_id, client_job_id, type, "to", "from", sms_from, viber_from,
    client_message_id, timestamp, micro_timestamp, error_code"""
_UPDATE = f"UPDATE message SET ({_STATE}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE message_id = ?"  # noqa: S608
_PREPARE = """INSERT OR IGNORE INTO message (message_id, api_job_id, client_job_id, type, "to", client_message_id)
    VALUES (?, ?, ?, ?, ?, ?)"""
_SELECT = f"SELECT reports, {_STATE} FROM message WHERE status IS NOT NULL"  # noqa: S608
_WHERE_IDS = " AND (message_id IN (SELECT value FROM json_each(?)) OR api_job_id IN (SELECT value FROM json_each(?)))"


class BadCallback(ValueError):
    """The body cannot be a delivery report; the message says why, in one line."""


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            v
            for item in level
            if isinstance(item, dict | list)
            for v in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def _check_fields(where: str, obj: dict[str, Any], strings: Iterable[str]) -> None:
    for name in strings:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise BadCallback(f"{where}{name} must be a string (got {type(value).__name__})")
        if isinstance(value, str) and not _encodable(value):
            raise BadCallback(f"{where}{name} is not text (it holds a lone surrogate escape)")
    for name in INTEGERS:
        value = obj.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise BadCallback(f"{where}{name} must be an integer (got {type(value).__name__})")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise BadCallback(f"{where}{name} does not fit in 64 bits")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate (from a \\ud800 escape) cannot be stored as text
    except UnicodeEncodeError:
        return False
    return True


def parse_callback(body: bytes) -> dict[str, Any]:
    """The callback in ``body``, or :class:`BadCallback` when it cannot be a delivery report."""
    try:
        callback = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadCallback("the body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise BadCallback("the body is not JSON") from None
    if not isinstance(callback, dict):
        raise BadCallback("the body is not a JSON object")
    if _depth(callback) > MAX_DEPTH:
        raise BadCallback(f"the body is nested more than {MAX_DEPTH} levels deep")
    data = callback.get("data")
    if not isinstance(data, list) or not data or not all(isinstance(record, dict) for record in data):
        raise BadCallback("data must be a non-empty list of objects")
    _check_fields("", {k: callback.get(k) for k in STRINGS[:2]}, STRINGS[:2])
    for i, record in enumerate(data):
        _check_fields(f"data[{i}].", record, ("message_id", "status", *STRINGS[2:]))
        if not record.get("message_id") or not record.get("status"):
            raise BadCallback(f"data[{i}] has no message_id or no status")
    return callback


def _newest_first(record: dict[str, Any]) -> tuple[int, int]:
    return (record.get("micro_timestamp") or -1, record.get("timestamp") or -1)


class Store:
    """Per-message state in SQLite, each report processed once; safe to share between threads."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def add(self, callback: dict[str, Any]) -> int:
        """Process every record of one (parsed) callback in one transaction; returns how many reports were new."""
        top = {"api_job_id": callback.get("api_job_id"), "client_job_id": callback.get("client_job_id")}
        with self._lock:
            # IMMEDIATE: the write lock first, so that two processes on one file cannot interleave either
            self._db.execute("BEGIN IMMEDIATE")
            try:
                new = sum(self._process({**record, **top}) for record in callback["data"])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return new

    def _process(self, report: dict[str, Any]) -> bool:
        message_id, status = report["message_id"], report["status"]
        inserted = self._db.execute(
            "INSERT OR IGNORE INTO report (message_id, status, api_job_id, record) VALUES (?, ?, ?, ?)",
            (message_id, status, report["api_job_id"], json.dumps(report)),
        )
        if inserted.rowcount == 0:
            return False  # a retry of a report already processed: nothing to do, and 200 again
        current = self._db.execute(
            "SELECT status, micro_timestamp, timestamp FROM message WHERE message_id = ?", (message_id,)
        ).fetchone()
        if current is None:
            self._db.execute("INSERT INTO message (message_id) VALUES (?)", (message_id,))
        self._db.execute("UPDATE message SET reports = reports + 1 WHERE message_id = ?", (message_id,))
        # out of order: a report older than the current one is counted, but does not change the state
        if current is None or current[0] is None or _newest_first(report) >= (current[1] or -1, current[2] or -1):
            self._db.execute(_UPDATE, (*(report.get(name) for name in FIELDS), message_id))
        return True

    def prepare(self, messages: Iterable[dict[str, Any]]) -> int:
        """Record messages as sent (no report yet), as a real receiver knows its own messages; returns how many."""
        known = ("message_id", "api_job_id", "client_job_id", "type", "to", "client_message_id")
        rows = [tuple(m.get(name) for name in known) for m in messages]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.executemany(_PREPARE, rows)
            self._db.execute("COMMIT")
        return max(cursor.rowcount, 0)

    def messages(self, message_ids: Iterable[str] = (), api_job_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Every message with a report (or those with one of the ids), as rows of a state reader."""
        ids, jobs = list(message_ids), list(api_job_ids)
        with self._lock:
            if ids or jobs:
                cursor = self._db.execute(_SELECT + _WHERE_IDS + " ORDER BY rowid", (json.dumps(ids), json.dumps(jobs)))
            else:
                cursor = self._db.execute(_SELECT + " ORDER BY rowid")
            rows = cursor.fetchall()
        out = []
        for reports, *values in rows:
            row = {name: value for name, value in zip(FIELDS, values, strict=True) if value is not None}
            out.append({"message_id": row.pop("message_id"), "status": row.pop("status"), "reports": reports, **row})
        return out

    def count(self) -> int:
        """How many distinct reports were processed."""
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM report").fetchone()
        return int(n)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, for a listener: its headers, body and the answer given."""

    time: float
    content_type: str
    user_agent: str
    body: bytes | None  # None when it was not read (over the cap, or a malformed length)
    status: int
    problem: str = ""  # why it was not answered 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the platform may send many callbacks on one connection
    server: ReceiverServer

    def handle_one_request(self) -> None:
        self.server.watch(self.connection)  # the whole request, idle wait included, within the deadline
        try:
            super().handle_one_request()
        finally:
            self.server.forget(self.connection)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        single = len(self.headers.get_all("Content-Length", [])) == 1 and not self.headers.get("Transfer-Encoding")
        if not (single and length.isascii() and length.isdigit()):
            self._done(None, 400 if length else 411, "a single valid Content-Length is required", close=True)
            return
        if int(length) > MAX_BODY:
            self._done(None, 413, f"the body is over {MAX_BODY} bytes", close=True)
            return
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True  # the client went away or ran out of time mid-body: no one to answer
            return
        try:
            callback = parse_callback(body)
        except BadCallback as exc:
            self._done(body, 400, str(exc))
            return
        try:
            new = self.server.store.add(callback)
        except sqlite3.Error as exc:  # the disk, not the callback: 503 and the platform retries later
            log.error("could not store a callback: %s", exc)
            self._done(body, 503, "the store is unavailable")
            return
        log.info("stored %d of %d report(s) for api_job_id %r", new, len(callback["data"]), callback.get("api_job_id"))
        self._done(body, 200, "")  # exactly 200: the body is ignored by the platform

    def _done(self, body: bytes | None, status: int, problem: str, *, close: bool = False) -> None:
        if self.server.on_request is not None:  # before the answer: once a client has it, the listener has seen it
            h = self.headers
            self.server.on_request(
                Received(time.time(), h.get("Content-Type", ""), h.get("User-Agent", ""), body, status, problem)
            )
        text = f"{problem}\n".encode() if problem else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class ReceiverServer(ThreadingHTTPServer):
    """The reference receiver as an HTTP server; ``url`` is where to point the platform."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 overflows under a burst of concurrent callbacks: the kernel drops or
    # resets the surplus connections, and a dropped SYN is retried only after a second.
    request_queue_size = 128
    max_connections = 256  # beyond this, a connection is answered 503 at once (the platform retries it later)
    request_timeout = 30.0  # seconds for a whole request, from waiting for its first line to its last byte

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        *,
        on_request: Callable[[Received], None] | None = None,
        max_connections: int | None = None,
        request_timeout: float | None = None,
    ) -> None:
        self.store = Store(db)
        self.on_request = on_request
        self.max_connections = max_connections or self.max_connections
        self.request_timeout = request_timeout or self.request_timeout
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._deadlines: dict[socket.socket, float] = {}
        self._deadlines_lock = threading.Lock()
        self._closed = threading.Event()
        super().__init__((host, port), _Handler)
        threading.Thread(target=self._enforce_deadlines, name="dlr-receiver-deadlines", daemon=True).start()

    def server_bind(self) -> None:
        super().server_bind()
        # Nagle plus delayed ACK would add ~40 ms to every keep-alive answer.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that resets mid-request is not worth a traceback on the console
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def watch(self, conn: socket.socket) -> None:
        """Start the deadline of the next request on ``conn``."""
        with self._deadlines_lock:
            self._deadlines[conn] = time.monotonic() + self.request_timeout

    def forget(self, conn: socket.socket) -> None:
        """The request on ``conn`` is over."""
        with self._deadlines_lock:
            self._deadlines.pop(conn, None)

    def _enforce_deadlines(self) -> None:
        # one thread for every connection: a slow client (one byte now and then) cannot hold a thread for ever
        while not self._closed.wait(0.25):
            now = time.monotonic()
            with self._deadlines_lock:
                late = [conn for conn, deadline in self._deadlines.items() if deadline < now]
                for conn in late:
                    del self._deadlines[conn]
            for conn in late:
                with contextlib.suppress(OSError):  # already closed
                    conn.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once; the handler ends

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

    def server_close(self) -> None:
        """Close the listening socket and stop enforcing deadlines."""
        self._closed.set()
        super().server_close()

    def stop(self) -> None:
        """Stop serving and close the store."""
        self.shutdown()
        self.server_close()
        self.store.close()
