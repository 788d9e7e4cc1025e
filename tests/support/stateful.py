"""A stateful receiver backed by SQLite, correct unless one fault flag is set, with its reader and preparer.

Every variant answers 200 to every callback (except ``long_status_500`` for a known message): its faults are
visible only in what it stores, read back with the reader. Run as a script, this file is the reader and the
preparer that the suite calls through the shell::

    python stateful.py read DB [--no-reports]      # stdin: {"run_id", "message_ids", "api_job_ids"}
    python stateful.py prepare DB                  # stdin: {"run_id", "messages": [...]}

Faults (one flag each): ``reprocess`` (every copy processed again), ``race`` (check, then insert, without a
lock: copies arriving together are processed twice), ``last_wins`` (the last arrival wins), ``first_record``
(only the first record of a batch is kept), ``drop_unknown`` (unknown statuses dropped), ``ts32``
(timestamps stored in 32 bits), ``unicode_q`` (non-ASCII stored as ``?``), ``errbyte`` (error codes stored in a
byte), ``cut_job`` (``client_job_id`` cut to 100 characters), ``drop_concurrent`` (reports dropped while
another request is in flight), ``lower`` (statuses stored lower-case), ``long_status_500`` (ignores unknown
messages; for known ones a status over 20 characters fails with 500, the records before it in a batch applied),
``batch_unknown_500`` (a callback of several records with an unknown status among them fails with 500, nothing
of it stored; one record alone is stored, whatever its status), ``lower_last_wins`` (statuses stored lower-case,
and the last arrival wins), ``bogus`` (every status stored as ``BOGUS``), ``stale_error`` (writes ``error_code``
only when non-zero: a newer report with 0 leaves the old error), ``words_forgetful`` (its own words, :data:`WORDS`,
but ``DELIVRD`` forgotten: stored lower-case),
``concat`` (builds its UPDATE by string concatenation: a quote is an SQL error (500), ``' OR '1'='1`` is evaluated:
stored as ``1`` in a value, every row updated in the ``WHERE`` clause), ``store_then_401`` (with a ``token``:
stores the report, then checks the token and answers 401). Correct variants: ``delay`` (stores 1-2 s after
statuses, :data:`WORDS`, the status map :func:`write_status_map` writes), ``park`` (like ``only_prepared``, but
keeps a report that comes before its message is known and applies it when the preparer creates the message),
``unknown_404`` (like ``only_prepared``, but answers 404 to such a report, so that it comes again); with a ``token``,
every variant refuses (401) a request whose ``?token=`` is not it, before storing anything. The default variant
stores every report, of a message it knows or not; its preparer leaves a message it already has as it is.
"""

from __future__ import annotations

import ctypes
import json
import shlex
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.servers import Recorder

KNOWN = {"ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SCHEDLD", "SKIPPED"}
FIELDS = ("api_job_id", "client_job_id", "type", "to", "from", "sms_from", "viber_from", "timestamp",
          "micro_timestamp", "error_code", "client_message_id")  # fmt: skip
SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    message_id TEXT PRIMARY KEY, status TEXT, reports INTEGER NOT NULL DEFAULT 0, api_job_id TEXT,
    client_job_id TEXT, type TEXT, "to" TEXT, "from" TEXT, sms_from TEXT, viber_from TEXT, timestamp INTEGER,
    micro_timestamp INTEGER, error_code INTEGER, client_message_id TEXT
);
CREATE TABLE IF NOT EXISTS processed (message_id TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parked (message_id TEXT NOT NULL, body TEXT NOT NULL, record TEXT NOT NULL);
"""
UNKNOWN_MESSAGE = {"long_status_500": 200, "only_prepared": 200, "park": 200, "unknown_404": 404}
"""The faults that do not store a report of a message they do not know, and what they answer to it."""
HERE = Path(__file__).resolve()
# a coarse vocabulary of its own, as real receivers keep: several statuses to one word, "*" for every other status,
# and a word no report produces (a prepared message)
WORDS: dict[str, list[str]] = {
    "delivered": ["DELIVRD", "SEEN"],
    "failed": ["UNDELIV", "EXPIRED", "REJECTD", "DELETED"],
    "pending": ["ACCEPTD", "ENROUTE", "SCHEDLD"],
    "unknown": ["UNKNOWN", "SKIPPED", "*"],
    "queued": [],
}


def write_status_map(path: Path) -> str:
    """Write :data:`WORDS` as a status map file (``--status-map``); its path."""
    path.write_text(json.dumps(WORDS), encoding="utf-8")
    return str(path)


def word_of(status: str, *, forget: str = "") -> str:
    """The receiver's word for a status (a forgotten status is stored lower-case, as a real receiver did)."""
    if status == forget:
        return status.lower()
    for word, statuses in WORDS.items():
        if status in statuses:
            return word
    return "unknown"


def connect(db: str) -> sqlite3.Connection:
    """A connection in autocommit mode that waits for locks."""
    conn = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a test store: speed over durability
    return conn


class StatefulReceiver:
    """The receiver: ``start()`` serves it on 127.0.0.1 and returns itself; ``url``, ``reader``, ``preparer``."""

    def __init__(self, db: Path, fault: str = "", *, reports: bool = True, token: str = "") -> None:
        self.db = str(db)
        self.fault = fault
        self.token = token
        self.reports = reports
        self.lock = threading.Lock()
        self.in_flight = 0
        self.pending: list[threading.Thread] = []
        conn = connect(self.db)
        conn.executescript(SCHEMA)
        conn.close()
        self.server: Recorder | None = None

    # -- the commands the suite runs --------------------------------------------------------------------------
    @property
    def reader(self) -> str:
        """The --state-cmd of this receiver."""
        extra = "" if self.reports else " --no-reports"
        return f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE))} read {shlex.quote(self.db)}{extra}"

    @property
    def preparer(self) -> str:
        """The --prepare-cmd of this receiver."""
        return f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE))} prepare {shlex.quote(self.db)}"

    # -- serving ---------------------------------------------------------------------------------------------
    def start(self) -> StatefulReceiver:
        """Serve in a daemon thread (:class:`tests.support.servers.Recorder`); returns self."""
        from tests.support.servers import Recorder  # not at the top: run as a script, this file imports nothing

        self.server = Recorder(lambda arrival, index: (self.answer(arrival.path, arrival.body), {}, b"")).start()
        return self

    def answer(self, path: str, body: bytes) -> int:
        """The status for one request: the token checked (before storing, unless ``store_then_401``), then stored."""
        from urllib.parse import parse_qs, urlsplit

        authorised = not self.token or parse_qs(urlsplit(path).query).get("token") == [self.token]
        if not authorised and self.fault != "store_then_401":
            return 401
        try:
            callback = json.loads(body)
        except ValueError:
            return 400
        status = self.handle(callback)
        return status if authorised else 401

    @property
    def url(self) -> str:
        """The callback URL."""
        assert self.server is not None
        return self.server.url

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()
        for thread in self.pending:
            thread.join(5)

    # -- storing ---------------------------------------------------------------------------------------------
    def handle(self, body: dict[str, Any]) -> int:
        """Store one callback; the HTTP status to answer."""
        records = [r for r in body.get("data", []) if isinstance(r, dict)]
        if self.fault == "first_record":
            records = records[:1]
        with self.lock:
            self.in_flight += 1
            crowded = self.in_flight > 1
        try:
            if self.fault == "drop_concurrent" and crowded:
                time.sleep(0.01)
                return 200
            if (
                self.fault == "batch_unknown_500"
                and len(records) > 1
                and any(r.get("status") not in KNOWN for r in records)
            ):
                return 500
            if self.fault == "delay":
                thread = threading.Thread(target=self._later, args=(body, records), daemon=True)
                self.pending.append(thread)
                thread.start()
                return 200
            conn = connect(self.db)
            try:
                if self.fault == "race" and len(records) == 1:  # no transaction, no lock: check and insert race
                    self.store(conn, body, records[0])
                    return 200
                with self.lock:  # one transaction per callback
                    conn.execute("BEGIN IMMEDIATE")
                    for record in records:
                        status = self.store(conn, body, record)
                        if status != 200:
                            # long_status_500 keeps what it applied before the failing record (autocommit per
                            # statement, as under MySQL): a batch applied in part
                            conn.execute("COMMIT" if self.fault == "long_status_500" else "ROLLBACK")
                            return status
                    conn.execute("COMMIT")
            finally:
                conn.close()
            return 200
        finally:
            with self.lock:
                self.in_flight -= 1

    def _later(self, body: dict[str, Any], records: list[dict[str, Any]]) -> None:
        time.sleep(1.0 + (hash(body.get("api_job_id")) % 1000) / 1000)
        conn = connect(self.db)
        with self.lock:
            conn.execute("BEGIN IMMEDIATE")
            for record in records:
                self.store(conn, body, record)
            conn.execute("COMMIT")
        conn.close()

    def store(self, conn: sqlite3.Connection, body: dict[str, Any], record: dict[str, Any]) -> int:
        """Apply one report; 500 if it fails."""
        fault = self.fault
        message_id, status = str(record.get("message_id")), str(record.get("status"))
        known = conn.execute("SELECT status FROM message WHERE message_id = ?", (message_id,)).fetchone()
        if fault in UNKNOWN_MESSAGE and known is None:
            if fault == "park":  # kept until the preparer creates the message
                conn.execute("INSERT INTO parked VALUES (?, ?, ?)", (message_id, json.dumps(body), json.dumps(record)))
            return UNKNOWN_MESSAGE[fault]  # not a message we sent: ignored (or parked, or to be sent again)
        if fault == "long_status_500" and len(status) > 20:
            return 500
        if fault == "drop_unknown" and status not in KNOWN:
            return 200
        values = self.values(body, record)
        if fault == "race" and not conn.in_transaction:  # check, then insert: two copies at once both find nothing
            seen = conn.execute("SELECT 1 FROM processed WHERE message_id = ? AND status = ?", (message_id, status))
            if seen.fetchone():
                return 200
            time.sleep(0.05)
            self._apply(conn, message_id, status, values)
            return 200
        seen = conn.execute("SELECT 1 FROM processed WHERE message_id = ? AND status = ?", (message_id, status))
        if seen.fetchone() and fault != "reprocess":
            return 200
        try:
            self._apply(conn, message_id, status, values)
        except (sqlite3.Error, ValueError):  # the concatenated SQL broke: the framework answers 500
            return 500
        return 200

    def _apply(self, conn: sqlite3.Connection, message_id: str, status: str, values: dict[str, Any]) -> None:
        conn.execute("INSERT INTO processed VALUES (?, ?)", (message_id, status))
        conn.execute("INSERT OR IGNORE INTO message (message_id) VALUES (?)", (message_id,))
        row = conn.execute("SELECT status, timestamp, micro_timestamp FROM message WHERE message_id = ?", (message_id,))
        current = row.fetchone()
        conn.execute("UPDATE message SET reports = reports + 1 WHERE message_id = ?", (message_id,))
        newer = current[0] is None or (values["timestamp"], values["micro_timestamp"]) >= (current[1], current[2])
        if self.fault == "stale_error" and not values["error_code"] and current[0] is not None:
            values = {name: value for name, value in values.items() if name != "error_code"}  # written when non-zero
        if self.fault == "concat" and newer:
            sets = ", ".join(f'"{name}" = {_literal(value)}' for name, value in values.items())
            conn.execute("UPDATE message SET " + sets + " WHERE message_id = " + _literal(message_id))
        elif self.fault in {"last_wins", "lower_last_wins"} or newer:
            columns = ", ".join(f'"{name}" = ?' for name in values)
            conn.execute(f"UPDATE message SET {columns} WHERE message_id = ?", (*values.values(), message_id))

    def values(self, body: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """The columns of a report, with this receiver's fault applied."""
        fault = self.fault
        values = {name: record.get(name) for name in FIELDS}
        values["api_job_id"] = body.get("api_job_id")
        values["client_job_id"] = body.get("client_job_id")
        values["status"] = record.get("status")
        if fault in {"lower", "lower_last_wins"}:
            values["status"] = str(values["status"]).lower()
        if fault == "bogus":
            values["status"] = "BOGUS"
        if fault in {"words", "words_forgetful"}:
            values["status"] = word_of(str(values["status"]), forget="DELIVRD" if fault == "words_forgetful" else "")
        if fault == "ts32":
            for name in ("timestamp", "micro_timestamp"):
                values[name] = ctypes.c_int32(int(values[name])).value
        if fault == "errbyte":
            values["error_code"] = ctypes.c_int8(int(values["error_code"])).value
        if fault == "cut_job" and isinstance(values["client_job_id"], str):
            values["client_job_id"] = values["client_job_id"][:100]
        if fault == "unicode_q":
            for name, value in values.items():
                if isinstance(value, str):
                    values[name] = value.encode("ascii", "replace").decode("ascii")
        for name in ("timestamp", "micro_timestamp"):  # SQLite INTEGER is 64-bit signed
            if isinstance(values[name], int) and values[name] >= 2**63:
                values[name] = None
        return values


def _literal(value: Any) -> str:
    """A value pasted into SQL, as a receiver that builds its statements by concatenation does."""
    if value is None:
        return "NULL"
    return str(value) if isinstance(value, int) else "'" + str(value) + "'"


def read(db: str, request: dict[str, Any], *, reports: bool) -> Iterable[str]:
    """The reader: one JSON line per message the store knows, of those asked for."""
    conn = connect(db)
    conn.row_factory = sqlite3.Row
    wanted = set(request["message_ids"])
    for row in conn.execute("SELECT * FROM message"):
        if row["message_id"] in wanted:
            out = {key: row[key] for key in row.keys() if key != "reports" or reports}  # noqa: SIM118
            yield json.dumps(out, ensure_ascii=False)


def prepare(db: str, request: dict[str, Any]) -> None:
    """The preparer: one row per message, as the platform's send request would have created it."""
    conn = connect(db)
    conn.executescript(SCHEMA)
    conn.executemany(
        'INSERT OR IGNORE INTO message (message_id, api_job_id, "to", client_message_id, client_job_id, type) '
        "VALUES (:message_id, :api_job_id, :to, :client_message_id, :client_job_id, :type)",
        request["messages"],
    )
    receiver = StatefulReceiver(Path(db))
    for message in request["messages"]:  # reports kept for a message not known then (the park variant)
        parked = conn.execute("SELECT body, record FROM parked WHERE message_id = ?", (message["message_id"],))
        for body, record in parked.fetchall():
            receiver.store(conn, json.loads(body), json.loads(record))
        conn.execute("DELETE FROM parked WHERE message_id = ?", (message["message_id"],))


if __name__ == "__main__":
    command, db = sys.argv[1], sys.argv[2]
    payload = json.load(sys.stdin)
    if command == "read":
        for line in read(db, payload, reports="--no-reports" not in sys.argv):
            print(line)
    else:
        prepare(db, payload)
