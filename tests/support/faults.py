"""Faulty receivers: one per way a customer's receiver goes wrong.

Each is written the way a customer would write it -- a stdlib ``http.server`` handler, or a view of the small
WSGI micro-framework in :mod:`tests.support.receivers` (JSON in, an exception becomes a 500, as in Flask) -- and is
correct except for the one mistake its docstring names. :mod:`tests.support.fault_table` says how the suite must
catch each.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs

from tests.support.receivers import Answer, JsonView

log = logging.getLogger("dlr_conformance.tests.receivers")


# -- wrong status codes, whatever the callback ------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """A stdlib handler that reads the body, then answers :meth:`answer`'s status."""

    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 200
    location: ClassVar[str] = ""

    def do_POST(self) -> None:
        """Read the callback and answer."""
        self.callback = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        status, body = self.answer()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", f"http://{self.headers['Host']}{self.location}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self) -> tuple[int, bytes]:
        """The status and body of the answer."""
        return self.status, b""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def success_other_than_200(status: int) -> type[BaseHTTPRequestHandler]:
    """Answers 201 Created, 202 Accepted or 204 No Content: the platform takes any of them as a failure."""

    class Queued(_Handler):
        """Queues the report for a worker and answers "accepted", as many webhook guides recommend."""

        def answer(self) -> tuple[int, bytes]:
            return status, b"" if status == 204 else b'{"queued": true}'

    Queued.__name__ = f"Answers{status}"
    return Queued


class RedirectsToTrailingSlash(_Handler):
    """Mounted at ``/dlr/``: a request to ``/dlr`` is redirected (301), which the platform does not follow."""

    status = 301
    location = "/dlr/"


class CsrfProtected(_Handler):
    """A framework's CSRF protection left on for the callback view: every POST is 403 Forbidden."""

    status = 403

    def answer(self) -> tuple[int, bytes]:
        return 403, b"CSRF verification failed. Request aborted."


class StrictContentType(JsonView):
    """Accepts only ``Content-Type: application/json`` exactly, so the platform's ``; charset=utf-8`` is 415."""

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        if environ.get("CONTENT_TYPE") != "application/json":
            return 415, "expected application/json"
        return super().dispatch(environ)


class ViewReturnsNothing(JsonView):
    """The view stores the records but forgets to return: the framework answers 500 for every callback."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Any:
        super().handle(callback, raw, environ)  # and no return: None


# -- optional fields and the sender --------------------------------------------------------------------------------
class ShardsByClientJobId(JsonView):
    """Shards reports by the first character of ``client_job_id``: an IndexError (500) when it is ``""``."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        shard = callback["client_job_id"][0] if "client_job_id" in callback else "_"
        log.debug("shard %s", shard)
        return super().handle(callback, raw, environ)


class RequiresClientJobId(JsonView):
    """Reads ``client_job_id`` with ``[]``: a KeyError (500) when the platform leaves it out."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        super().save(callback, {**record, "job": callback["client_job_id"]})


class RequiresClientMessageId(JsonView):
    """Reads ``client_message_id`` with ``[]``: a KeyError (500) when the record has none."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        super().save(callback, {**record, "reference": record["client_message_id"].upper()})


class RequiresFrom(JsonView):
    """Reads the sender from ``from`` only, as the field table says: KeyError (500) on ``sms_from``/``viber_from``."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        super().save(callback, {**record, "sender": record["from"].strip()})


class FailsOnEmptySender(JsonView):
    """Takes the first sender form present and classifies it by its first character: fails when all are empty."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        sender = record.get("from") or record.get("sms_from") or record.get("viber_from")
        numeric = sender[0].isdigit()  # type: ignore[index] - None when every form is empty
        super().save(callback, {**record, "numeric_sender": numeric})


# -- statuses and types --------------------------------------------------------------------------------------------
class GuessedStatusNames(JsonView):
    """Maps the statuses a public receiver guessed (DELIVERED, REJECTED, ...): KeyError on the real SMPP forms."""

    STATES: ClassVar[dict[str, str]] = {
        "DELIVERED": "delivered",
        "REJECTED": "failed",
        "FAILED": "failed",
        "EXPIRED": "failed",
        "PENDING": "pending",
        "SENT": "pending",
    }

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        super().save(callback, {**record, "state": self.STATES[record["status"]]})


class SmppStatusesOnly(JsonView):
    """Knows the eight SMPP v3.4 states and answers 422 for anything else (SEEN, SCHEDLD, statuses to come)."""

    SMPP: ClassVar[frozenset[str]] = frozenset(
        {"ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"}
    )

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        for record in callback["data"]:
            if record["status"] not in self.SMPP:
                return 422, f"unknown status {record['status']!r}"
        return super().handle(callback, raw, environ)


class KnownTypesOnly(JsonView):
    """Validates ``type`` against an enum of SMS and VIBER: 422 for IM_VIBER, INTERNAL and types to come."""

    TYPES: ClassVar[frozenset[str]] = frozenset({"SMS", "VIBER"})

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        for record in callback["data"]:
            if record["type"] not in self.TYPES:
                return 422, f"type: value is not a valid enumeration member: {record['type']!r}"
        return super().handle(callback, raw, environ)


class DocumentedTypesOnly(KnownTypesOnly):
    """Validates ``type`` against the four types the platform sends: 422 only for types to come (a SHOULD fault)."""

    TYPES: ClassVar[frozenset[str]] = frozenset({"SMS", "VIBER", "IM_VIBER", "INTERNAL"})


# -- strict models -------------------------------------------------------------------------------------------------
TOP_LEVEL = frozenset({"api_job_id", "client_job_id", "data"})
RECORD = frozenset(
    {
        "type",
        "message_id",
        "status",
        "timestamp",
        "micro_timestamp",
        "to",
        "from",
        "sms_from",
        "viber_from",
        "client_message_id",
        "error_code",
    }
)


class ForbidsExtraTopLevelFields(JsonView):
    """A model with ``extra = "forbid"`` on the callback: 422 for an unknown top-level field."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        extra = set(callback) - TOP_LEVEL
        if extra:
            return 422, f"extra fields not permitted: {sorted(extra)}"
        return super().handle(callback, raw, environ)


class ForbidsExtraRecordFields(JsonView):
    """A model with ``extra = "forbid"`` on each record: 422 for an unknown field inside a record."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        for record in callback["data"]:
            extra = set(record) - RECORD
            if extra:
                return 422, f"data.0: extra fields not permitted: {sorted(extra)}"
        return super().handle(callback, raw, environ)


# -- batches -------------------------------------------------------------------------------------------------------
class OneRecordOnly(JsonView):
    """Unpacks exactly one record (``(record,) = data``): a ValueError (500) on a batch."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        (record,) = callback["data"]
        self.save(callback, record)
        return 200


class OneReportPerMessagePerCallback(JsonView):
    """Collects a batch by ``message_id`` and refuses a second record for one message (a unique constraint)."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        batch: dict[str, dict[str, Any]] = {}
        for record in callback["data"]:
            if record["message_id"] in batch:
                raise sqlite3.IntegrityError("UNIQUE constraint failed: batch.message_id")
            batch[record["message_id"]] = record
        return super().handle(callback, raw, environ)


class BatchLimit(JsonView):
    """Refuses batches of more than 50 records with 413 Payload Too Large."""

    MAX_RECORDS = 50

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        if len(callback["data"]) > self.MAX_RECORDS:
            return 413, f"at most {self.MAX_RECORDS} records per request"
        return super().handle(callback, raw, environ)


# -- value ranges --------------------------------------------------------------------------------------------------
class Int32Timestamp(JsonView):
    """Stores ``timestamp`` (documented as seconds) in a 32-bit column: fails past 2**31-1 (milliseconds)."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        packed = struct.pack("<iq", record["timestamp"], record["micro_timestamp"])  # INTEGER, BIGINT
        super().save(callback, {**record, "row": packed})


class ErrorCodeMeansFailure(JsonView):
    """Treats any non-zero ``error_code`` on a DELIVRD record as an inconsistent report: 400."""

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        for record in callback["data"]:
            if record["status"] == "DELIVRD" and record["error_code"] != 0:
                return 400, "inconsistent report: DELIVRD with an error code"
        return super().handle(callback, raw, environ)


def phone_number_pattern(pattern: str, wrong: str) -> type[JsonView]:
    """Validates ``to`` with a pattern that gets the documented 7 to 15 digits wrong: 422."""

    class PhoneNumber(JsonView):
        __doc__ = f"Validates ``to`` against {pattern!r}, {wrong}: 422."
        PATTERN = re.compile(pattern)

        def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
            for record in callback["data"]:
                if not self.PATTERN.fullmatch(record["to"]):
                    return 422, f"to: not a valid phone number: {record['to']!r}"
            return super().handle(callback, raw, environ)

    return PhoneNumber


# -- duplicates and order ------------------------------------------------------------------------------------------
class UniqueConstraint(JsonView):
    """Inserts each report into SQLite under a primary key, without ``OR IGNORE``: a retry fails the constraint.

    ``on_duplicate`` None lets the IntegrityError become a 500; a status (409) answers it explicitly.
    """

    def __init__(self, on_duplicate: int | None = None) -> None:
        super().__init__()
        self.on_duplicate = on_duplicate
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE TABLE report (api_job_id TEXT, message_id TEXT, status TEXT, "
            "PRIMARY KEY (api_job_id, message_id, status))"
        )

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        rows = [(callback["api_job_id"], r["message_id"], r["status"]) for r in callback["data"]]
        with self.lock:
            try:
                with self.db:
                    self.db.executemany("INSERT INTO report VALUES (?, ?, ?)", rows)
            except sqlite3.IntegrityError:
                if self.on_duplicate is None:
                    raise
                return self.on_duplicate, "duplicate report"
        return 200


class RacyDuplicateCheck(JsonView):
    """Checks for a duplicate, then inserts after a slow write: copies arriving together both pass the check."""

    WRITE_SECONDS = 0.3

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        keys = [(callback["api_job_id"], r["message_id"], r["status"]) for r in callback["data"]]
        if all(key in self.reports for key in keys):
            return 200  # a retry of a stored callback: fine, sequentially
        self.released.wait(self.WRITE_SECONDS)  # the write takes a while; no lock held across check and insert
        with self.lock:
            for key, record in zip(keys, callback["data"], strict=True):
                if key in self.reports:
                    raise sqlite3.IntegrityError("UNIQUE constraint failed: report.api_job_id, report.message_id")
                self.reports[key] = record
        return 200


class RejectsStatusRegression(JsonView):
    """Keeps one state per message and answers 409 when an intermediate status follows a final one."""

    FINAL: ClassVar[frozenset[str]] = frozenset({"DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "REJECTD"})

    def __init__(self) -> None:
        super().__init__()
        self.state: dict[str, str] = {}

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        with self.lock:
            for record in callback["data"]:
                current = self.state.get(record["message_id"])
                if current in self.FINAL and record["status"] not in self.FINAL:
                    return 409, f"message already in final state {current}"
                self.state[record["message_id"]] = record["status"]
        return super().handle(callback, raw, environ)


# -- capacity and speed --------------------------------------------------------------------------------------------
class RateLimited(JsonView):
    """Answers 429 over ``limit`` requests in a sliding window of ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 5.0) -> None:
        super().__init__()
        self.limit = limit
        self.window = window
        self.seen: list[float] = []

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        now = time.monotonic()
        with self.lock:
            self.seen = [t for t in self.seen if now - t < self.window]
            if len(self.seen) >= self.limit:
                return 429, "rate limit exceeded", [("Retry-After", str(int(self.window)))]
            self.seen.append(now)
        return super().dispatch(environ)


class ConcurrencyLimited(JsonView):
    """Processes at most ``slots`` callbacks at a time and answers 503 to the rest (each takes ``work`` s)."""

    def __init__(self, slots: int = 3, work: float = 0.2) -> None:
        super().__init__()
        self.slots = threading.BoundedSemaphore(slots)
        self.work = work

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        if not self.slots.acquire(blocking=False):
            return 503, "busy"
        try:
            self.released.wait(self.work)
            return super().dispatch(environ)
        finally:
            self.slots.release()


class SlowOn(JsonView):
    """Makes a slow call (``seconds``) before answering reports whose status is in ``statuses`` (all if empty)."""

    def __init__(self, seconds: float, statuses: Iterable[str] = ()) -> None:
        super().__init__()
        self.seconds = seconds
        self.statuses = frozenset(statuses)

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        if not self.statuses or any(r["status"] in self.statuses for r in callback["data"]):
            self.released.wait(self.seconds)
        return super().handle(callback, raw, environ)


# -- faults only generated payloads reach ------------------------------------------------------------------------
class AsciiOnly(JsonView):
    """Decodes the body as ASCII (a legacy gateway's habit): 500 on any non-ASCII character anywhere."""

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        return self.handle(json.loads(raw.decode("ascii")), raw, environ)


class ShortTypeColumn(JsonView):
    """Stores ``type`` in a VARCHAR(8) column: 500 for a type longer than the longest known one (IM_VIBER)."""

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        if len(record["type"]) > 8:
            raise ValueError("value too long for type character varying(8)")
        super().save(callback, record)


class ExtrasAsColumns(JsonView):
    """Keeps unknown record fields as (name, value) rows, binding each value as it is: a list fails (500)."""

    def __init__(self) -> None:
        super().__init__()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE TABLE extra (message_id TEXT, name TEXT, value)")

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        extras = [(record["message_id"], name, value) for name, value in record.items() if name not in RECORD]
        with self.lock, self.db:
            self.db.executemany("INSERT INTO extra VALUES (?, ?, ?)", extras)
        super().save(callback, record)


# -- credentials: the platform signs nothing, the owner's secret is all that protects the URL ----------------------
TOKEN = "Zq8xT3vN5kP2wR7mL4sY9bC6"
USER, PASSWORD = "platform", "pa55-W0rd-9f3k2"
API_KEY = "ak_live_4f9Q2xL7pR3mN8vT"


class Guarded(JsonView):
    """Correct, behind a credential: a request without the right one is refused before its body is looked at."""

    refusal = 401

    def authorised(self, environ: dict[str, Any]) -> bool:
        """Whether the request carries the credential."""
        return True

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        if not self.authorised(environ):
            return self.refusal, '{"error": "unauthorized"}'
        return super().dispatch(environ)


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


class TokenInUrl(Guarded):
    """Correct: ``?token=`` must hold the secret, compared in constant time; 404 otherwise (the URL is not there)."""

    refusal = 404

    def authorised(self, environ: dict[str, Any]) -> bool:
        return hmac.compare_digest(_query(environ).get("token", [""])[0], TOKEN)


class BasicAuth(Guarded):
    """Correct: Basic auth with the URL's user and password; 401 otherwise."""

    def authorised(self, environ: dict[str, Any]) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return hmac.compare_digest(environ.get("HTTP_AUTHORIZATION", ""), expected)


class ApiKeyHeader(Guarded):
    """Correct: an ``X-Api-Key`` header must hold the key; 403 otherwise."""

    refusal = 403

    def authorised(self, environ: dict[str, Any]) -> bool:
        return hmac.compare_digest(environ.get("HTTP_X_API_KEY", ""), API_KEY)


class TokenPresenceOnly(Guarded):
    """Checks that ``?token=`` is there, not what it holds: any token is taken."""

    def authorised(self, environ: dict[str, Any]) -> bool:
        return bool(_query(environ).get("token", [""])[0])


# -- internals shown, values built into SQL --------------------------------------------------------------------
class DebugTracebacks(ShardsByClientJobId):
    """Left in debug mode: the 500 of an empty ``client_job_id`` (and of any broken body) shows the traceback."""

    debug = True


class SqlByConcatenation(JsonView):
    """Builds its INSERT by string concatenation on a real SQLite store: a quote in any text field is an SQL syntax
    error (500), and so is a NUL."""

    COLUMNS = ("api_job_id", "client_job_id", "message_id", "status", "from", "sms_from", "viber_from",
               "client_message_id")  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        columns = ", ".join(f'"{c}" TEXT' for c in self.COLUMNS)
        self.db.execute(f"CREATE TABLE report ({columns})")

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        values = [callback.get(c) if c in {"api_job_id", "client_job_id"} else record.get(c) for c in self.COLUMNS]
        sql = "INSERT INTO report VALUES (" + ", ".join("NULL" if v is None else "'" + str(v) + "'" for v in values)
        with self.lock, self.db:
            self.db.execute(sql + ")")
        super().save(callback, record)
