"""The receiver's stored state: what the run sent (the ledger), the reader and preparer commands, the comparisons.

A 200 answer says nothing about what the receiver did with a report. The *state reader* (``--state-cmd``, or the
``dlr_state_reader`` fixture) tells the tool what the receiver holds per message; the *preparer*
(``--prepare-cmd``) creates the run's messages in the receiver's store first, so that a receiver which only
updates messages it sent takes its real path. The :class:`Ledger` remembers, per message, the distinct reports
sent and answered 200 (only while a reader is configured: without one it keeps nothing); the functions at the
bottom compare it with the rows the reader returned, one function per requirement (DLR-13..16), each returning
:class:`Problem`\\ s that the checks in ``checks.py`` turn into failures.

Formats (``docs/state.md``): the reader gets ``{"run_id", "message_ids", "api_job_ids"}`` on stdin and
``DLR_RUN_ID`` in its environment, and prints JSON Lines or a JSON array, one object per message it knows:
``message_id`` and ``status`` (strings, required), ``reports`` (an integer, optional) and any field of the
callback under its own name. The preparer gets ``{"run_id", "messages": [{message_id, api_job_id, to,
client_message_id, client_job_id, type}, ...]}`` on stdin.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "COMPARED_FIELDS",
    "NOT_JUDGED",
    "NO_READER",
    "Acknowledged",
    "CommandPreparer",
    "CommandReader",
    "Ledger",
    "Message",
    "Problem",
    "Reader",
    "StateCommandError",
    "iter_lost_reports",
    "iter_misprocessed_retries",
    "lost_reports",
    "misprocessed_retries",
    "older_status_kept",
    "parse_rows",
    "run_command",
    "values_not_intact",
]

# Fields of a record (or of the callback, for the two job ids) that a reader may return and that are compared
# with the report sent.
COMPARED_FIELDS = (
    "api_job_id",
    "client_job_id",
    "type",
    "to",
    "from",
    "sms_from",
    "viber_from",
    "timestamp",
    "micro_timestamp",
    "error_code",
    "client_message_id",
)
NO_READER = (
    "not checked: no state reader was given, so what the receiver stored is unknown; give one with --state-cmd "
    "'COMMAND' (see docs/state.md)"
)
# Requirements whose deliveries the stored-state checks leave out: adversarial values the platform never sends
# (NUL, control characters, 2^63-1): how a receiver stores them (PostgreSQL text cannot hold NUL) is not judged.
NOT_JUDGED = frozenset({"DLR-17"})
STDERR_LINES = 5
EVIDENCE_LIMIT = 20

Reader = Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]]
"""A state reader: the request ``{"run_id", "message_ids", "api_job_ids"}`` in, one row per known message out."""


class StateCommandError(Exception):
    """The state reader or the preparer failed: one line naming the problem and the first lines of its stderr."""

    def __init__(self, what: str, problem: str, stderr: str = "") -> None:
        lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()][:STDERR_LINES]
        text = f"the {what} {problem}"
        if lines:
            text += "; its stderr: " + " | ".join(lines)
        super().__init__(text)
        self.what = what
        self.problem = problem
        self.stderr = stderr


def run_command(command: str, stdin: dict[str, Any], *, what: str, timeout: float, run_id: str) -> str:
    """Run ``command`` through the shell with ``stdin`` as JSON, under a deadline; its standard output."""
    env = {**os.environ, "DLR_RUN_ID": run_id}
    try:
        proc = subprocess.Popen(  # noqa: S602 - the user's own command line, run as the user asked
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so that a hang is killed with its children
        )
    except OSError as exc:
        raise StateCommandError(what, f"could not be started ({exc.strerror})") from None
    data = json.dumps(stdin, ensure_ascii=False).encode("utf-8")
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        raise StateCommandError(
            what, f"did not finish within {timeout:g} s (--state-timeout) and was stopped", _text(err)
        ) from None
    if proc.returncode != 0:
        how = f"exited with status {proc.returncode}"
        if proc.returncode < 0:
            how = f"was killed by signal {-proc.returncode}"
        raise StateCommandError(what, how, _text(err))
    return _text(out)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def parse_rows(output: str, *, what: str = "state reader") -> list[dict[str, Any]]:
    """The reader's output (JSON Lines, or one JSON array) as rows; :class:`StateCommandError` if malformed."""
    text = output.strip()
    if not text:
        return []
    rows: list[Any]
    if text.startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise StateCommandError(what, f"printed invalid JSON ({exc}): {_head(text)!r}") from None
    else:
        rows = []
        # JSON Lines are separated by "\n" only: str.splitlines() would also split on U+2028, U+0085 and the like,
        # which a JSON string may hold unescaped
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise StateCommandError(
                    what, f"printed invalid JSON on line {number} ({exc}): {_head(line)!r}"
                ) from None
    for number, row in enumerate(rows, 1):
        _check_row(row, number, what)
    return rows


def _head(text: str) -> str:
    return text if len(text) <= 120 else text[:120] + "…"


def _check_row(row: Any, number: int, what: str) -> None:
    if not isinstance(row, dict):
        raise StateCommandError(what, f"printed row {number} that is not a JSON object: {_head(json.dumps(row))!r}")
    if isinstance(row.get("message_id"), int) and not isinstance(row["message_id"], bool):
        row["message_id"] = str(row["message_id"])  # a digits-only id stored in an integer column
    if not isinstance(row.get("message_id"), str) or not row["message_id"]:
        raise StateCommandError(
            what, f"printed row {number} without a message_id string: {_head(json.dumps(row, ensure_ascii=False))!r}"
        )
    if "status" not in row or not isinstance(row["status"], str | None):
        raise StateCommandError(
            what, f"printed row {number} without a status string: {_head(json.dumps(row, ensure_ascii=False))!r}"
        )
    reports = row.get("reports")
    if reports is not None and (isinstance(reports, bool) or not isinstance(reports, int)):
        raise StateCommandError(what, f"printed row {number} whose reports is not an integer: {reports!r}")


@dataclass(frozen=True)
class CommandReader:
    """A state reader that is a shell command (``--state-cmd``)."""

    command: str
    timeout: float

    def __call__(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the command for ``request`` and parse its rows."""
        what = "state reader (--state-cmd)"
        output = run_command(self.command, request, what=what, timeout=self.timeout, run_id=str(request["run_id"]))
        return parse_rows(output, what=what)


@dataclass(frozen=True)
class CommandPreparer:
    """A preparer that is a shell command (``--prepare-cmd``)."""

    command: str
    timeout: float

    def __call__(self, run_id: str, messages: list[dict[str, Any]]) -> None:
        """Run the command with the messages to create."""
        stdin = {"run_id": run_id, "messages": messages}
        run_command(self.command, stdin, what="preparer (--prepare-cmd)", timeout=self.timeout, run_id=run_id)


def read_rows(reader: Reader, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Call any reader (a command or a fixture's function) and check its rows like a command's output."""
    try:
        rows = list(reader(request))
    except StateCommandError:
        raise
    except Exception as exc:  # a fixture's reader: its own error, in one line
        what = "state reader (fixture dlr_state_reader)"
        raise StateCommandError(what, f"raised {type(exc).__name__}: {exc}") from exc
    for number, row in enumerate(rows, 1):
        _check_row(row, number, "state reader")
    return [dict(row) for row in rows]


# -- what was sent ----------------------------------------------------------------------------------------------
@dataclass
class Message:
    """What the run sent about one message: its distinct reports (by status), how often each went out."""

    message_id: str
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # status -> the report (record + job ids)
    copies: dict[str, int] = field(default_factory=dict)  # status -> deliveries answered 200 that carried it
    order: list[str] = field(default_factory=list)  # statuses in the order their first copy was answered
    acknowledged: bool = False
    doubtful: str = ""  # why its stored state cannot be judged; "" when it can
    case: str = ""

    def newest(self) -> str | None:
        """The status of the newest report (by timestamp, then micro_timestamp); None if two tie."""
        keyed = []
        for status, report in self.reports.items():
            stamp, micro = report.get("timestamp"), report.get("micro_timestamp")
            if not isinstance(stamp, int) or not isinstance(micro, int):
                return None
            keyed.append(((stamp, micro), status))
        keyed.sort()
        if not keyed or (len(keyed) > 1 and keyed[-1][0] == keyed[-2][0]):
            return None
        return keyed[-1][1]

    def callback(self, status: str) -> dict[str, Any]:
        """The report of ``status`` as a one-record callback (for the evidence and a curl line)."""
        report = dict(self.reports[status])
        body: dict[str, Any] = {"api_job_id": report.pop("api_job_id", None)}
        if "client_job_id" in report:
            body["client_job_id"] = report.pop("client_job_id")
        body["data"] = [report]
        return body


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


# -- comparing what was sent with what is stored ----------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One message whose stored state is wrong: the sentence, the reports involved and the row read."""

    message_id: str
    text: str
    reports: tuple[dict[str, Any], ...] = ()
    row: dict[str, Any] | None = None
    case: str = ""


def short_id(message_id: str) -> str:
    """A long id as ``1446…003``: enough to recognise it in a sentence (the evidence has it whole)."""
    return message_id if len(message_id) <= 12 else f"{message_id[:4]}…{message_id[-3:]}"


def _related(stored: str, sent: Iterable[str]) -> str | None:
    """The status sent of which ``stored`` is a mangled form (case, cut, padded, '?' for characters), if any."""
    for status in sent:
        if stored.lower() == status.lower() or stored.strip() == status:
            return status
        if stored and (status.startswith(stored) or stored.startswith(status)):
            return status
        if len(stored) == len(status) and all(a == b or a == "?" for a, b in zip(stored, status, strict=True)):
            return status
    return None


class Acknowledged(Protocol):
    """What the DLR-13 and DLR-14 comparisons need of a ledger: the :class:`Ledger` of the suite, or the load's
    compact one (``loadstate.LoadLedger``), which builds each :class:`Message` as it is asked for."""

    def acknowledged(self) -> Iterable[Message]:
        """The messages of which at least one report was answered 200."""
        ...


def lost_reports(ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, prepared: bool) -> list[Problem]:
    """DLR-13: every message acknowledged with 200 is known to the receiver with a report applied."""
    return list(iter_lost_reports(ledger, rows, prepared=prepared))


def iter_lost_reports(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, prepared: bool
) -> Iterator[Problem]:
    """:func:`lost_reports` one problem at a time (a load run counts them all and keeps a few)."""
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        sent = " and ".join(message.order)
        reports = tuple(message.callback(s) for s in message.order)
        if row is None:
            yield Problem(
                message.message_id,
                f"message {short_id(message.message_id)}: not stored (the reader returned no row), although "
                f"the receiver answered 200 to {sent}: the report is lost, the platform never sends it again",
                reports,
                None,
                message.case,
            )
            continue
        status = row.get("status")
        if not status:
            text = "known, but no status stored: the report was not applied"
        elif prepared and status not in message.reports and _related(status, message.reports) is None:
            text = f"still holds status {status!r}, none of the statuses sent: the report was not applied"
        else:
            continue
        yield Problem(
            message.message_id,
            f"message {short_id(message.message_id)}: {text} (sent {sent}, each answered 200)",
            reports,
            dict(row),
            message.case,
        )


def misprocessed_retries(ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """DLR-14: ``reports`` equals the number of distinct reports sent, however often each was delivered."""
    return list(iter_misprocessed_retries(ledger, rows))


def iter_misprocessed_retries(ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]]) -> Iterator[Problem]:
    """:func:`misprocessed_retries` one problem at a time."""
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None or not isinstance(row.get("reports"), int):
            continue
        processed, distinct = int(row["reports"]), len(message.order)
        if processed == distinct:
            continue
        copies = ", ".join(f"{s} was delivered {n} time{'s' if n != 1 else ''}" for s, n in message.copies.items())
        if processed > distinct:
            why = "a retry was processed again" if max(message.copies.values()) > 1 else "a report was counted twice"
        else:
            why = "a report was dropped"
        yield Problem(
            message.message_id,
            f"message {short_id(message.message_id)}: {processed} report{'s' if processed != 1 else ''} "
            f"processed, {distinct} sent ({copies}: {why})",
            tuple(message.callback(s) for s in message.order),
            dict(row),
            message.case,
        )


def older_status_kept(ledger: Ledger, rows: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """DLR-15: of several reports of one message, the stored status is the newest one's, whatever the order."""
    problems = []
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None or len(message.reports) < 2:
            continue
        newest, status = message.newest(), row.get("status")
        if newest is None or status == newest or status not in message.reports:
            continue
        arrival = " then ".join(message.order)
        stamp = message.reports[newest].get("timestamp")
        older = message.reports[str(status)].get("timestamp")
        problems.append(
            Problem(
                message.message_id,
                f"message {short_id(message.message_id)}: stored status {status}, but {newest} is the newest "
                f"(timestamp {stamp} > {older}); they arrived {arrival}: "
                + ("the last arrival won" if message.order[-1] == status else "a newer report did not replace it"),
                tuple(message.callback(s) for s in message.order),
                dict(row),
                message.case,
            )
        )
    return problems


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _same(sent: Any, stored: Any) -> bool:
    if _blank(sent) and _blank(stored):  # an empty and a null optional string count as equal
        return True
    if isinstance(sent, int) and not isinstance(sent, bool):
        if isinstance(stored, str) and stored.strip().lstrip("-").isdigit():
            return int(stored) == sent
        return isinstance(stored, int | float) and not isinstance(stored, bool) and stored == sent
    return bool(sent == stored)


def _how(sent: Any, stored: Any) -> str:
    """Why a stored value differs, when the difference has a known cause."""
    if isinstance(sent, int) and isinstance(stored, int | float) and not isinstance(stored, bool):
        stored = int(stored)
        if stored in (sent & 0xFFFFFFFF, ((sent + 2**31) % 2**32) - 2**31, min(sent, 2**31 - 1)):
            return " (cut to 32 bits)"
        if stored in (sent & 0xFF, ((sent + 128) % 256) - 128, max(-128, min(sent, 127)), max(0, min(sent, 255))):
            return " (stored in a byte)"
        if sent > 2**53 and stored != sent:
            return " (stored as a floating-point number)"
    if isinstance(sent, str) and isinstance(stored, str):
        if sent.startswith(stored):
            return f" (cut to {len(stored)} of {len(sent)} characters)"
        if "?" in stored and len(stored) <= len(sent) and not sent.isascii():
            return " (non-ASCII characters replaced by '?')"
        if stored.lower() == sent.lower():
            return " (its case changed)"
    return ""


def values_not_intact(ledger: Ledger, rows: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """DLR-16: every field the reader returns equals what was sent in the report whose status is stored."""
    problems = []
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None:
            continue
        status = row.get("status")
        wrong = []
        if isinstance(status, str) and status and status not in message.reports:
            related = _related(status, message.reports)
            if related is None:
                continue  # not a report of this run, or nothing applied: lost_reports judges that
            wrong.append(f"status {status!r}, sent {related!r}{_how(related, status)}")
            reference = message.reports[related]
        else:
            key = status if status in message.reports else message.newest()
            if key is None:
                continue
            reference = message.reports[key]
        for name in COMPARED_FIELDS:
            if name in row and name in reference and not _same(reference[name], row[name]):
                sent, stored = reference[name], row[name]
                wrong.append(f"{name} {_show(stored)}, sent {_show(sent)}{_how(sent, stored)}")
        if wrong:
            problems.append(
                Problem(
                    message.message_id,
                    f"message {short_id(message.message_id)}: stored " + "; ".join(wrong),
                    tuple(message.callback(s) for s in message.order),
                    dict(row),
                    message.case,
                )
            )
    return problems


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:80] + f"… ({len(text)} characters)"
