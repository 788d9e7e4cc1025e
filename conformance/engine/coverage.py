"""What a run exercised: a small, fixed matrix of the contract's cells, counted from what was delivered and answered.

A verdict says what failed; coverage says what was *tried*. Each :class:`Cell` is one thing the contract lets the
platform send (a status, a network type, a status on a network, an optional field in one of its forms, a value at
the edge of its range, a scenario) and, with a state reader, each stored-state requirement. A cell is counted
from the deliveries that actually went out (never from what was planned): how many deliveries exercised it and how
many of them were answered 200; a stored-state cell counts the messages its requirement was judged on and how many
were stored right. ``docs/reference/coverage.md`` defines every cell.

Every delivery is classified once, from its body, in :meth:`Coverage.observe` (the sender calls it for each
exchange, from any thread); the scenarios that the body alone cannot show (a burst, a sustained stream) are
counted by the suite's driver (:meth:`Coverage.scenario`). The cost is one JSON parse and one short hash per
delivery; :attr:`Coverage.seconds` measures it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.contract import schema as contract
from conformance.requirements import Requirement, needing_reader

__all__ = ["BURST", "STREAM", "Cell", "CellCount", "Coverage", "cells"]

INT32_MAX = 2**31 - 1
SHORT_MIN, SHORT_MAX = -(2**15), 2**15 - 1
TRACKED = 200_000  # bodies and messages remembered for the duplicate and out-of-order cells (memory bound)
BURST = "burst: the capacity scenario's callbacks at once"
STREAM = "sustained stream"


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix: its group, its short name (unique) and what exercises it."""

    group: str
    name: str
    meaning: str


def _status_cells() -> list[Cell]:
    out = [Cell("statuses", s, f"a record with status {s}") for s in contract.KNOWN_STATUSES]
    out.append(Cell("statuses", "unknown status", "a record with a status not in the known list"))
    return out


def _type_cells() -> list[Cell]:
    out = [Cell("network types", t, f"a record with type {t}") for t in contract.KNOWN_TYPES]
    out.append(Cell("network types", "unknown type", "a record with a type not in the known list"))
    return out


def _pair_cells() -> list[Cell]:
    return [
        Cell("status × type", f"{t} × {s}", f"a record with type {t} and status {s}")
        for t in contract.KNOWN_TYPES
        for s in contract.KNOWN_STATUSES
    ]


OPTIONAL = "optional fields"
RANGES = "value ranges"
SCENARIOS = "scenarios"
STORED = "stored state"

_FIELD_CELLS = [
    Cell(OPTIONAL, "client_job_id absent", "a callback without client_job_id"),
    Cell(OPTIONAL, 'client_job_id ""', "a callback with an empty client_job_id"),
    Cell(OPTIONAL, "client_job_id of 255 characters", "a client_job_id at its documented maximum"),
    Cell(OPTIONAL, "client_message_id absent", "a record without client_message_id"),
    Cell(OPTIONAL, "client_message_id present", "a record with client_message_id"),
    Cell(OPTIONAL, "sender as numeric from", "a record whose from is digits only"),
    Cell(OPTIONAL, "sender as alphanumeric from", "a record whose from holds other characters"),
    Cell(OPTIONAL, "sender as sms_from", "a record with sms_from (the documented example's form)"),
    Cell(OPTIONAL, "sender as viber_from", "a record with viber_from (the documented example's form)"),
    Cell(OPTIONAL, "extra top-level field", "a callback with a field the contract does not name"),
    Cell(OPTIONAL, "extra record field", "a record with a field the contract does not name"),
]
_RANGE_CELLS = [
    Cell(RANGES, "timestamp past 32 bits", "timestamp or micro_timestamp above 2,147,483,647"),
    Cell(RANGES, "timestamp in seconds", "timestamp or micro_timestamp from 10^9 to below 10^11"),
    Cell(RANGES, "timestamp in milliseconds", "timestamp or micro_timestamp from 10^11 to below 10^14"),
    Cell(RANGES, "timestamp in microseconds", "timestamp or micro_timestamp from 10^14 to below 10^17"),
    Cell(RANGES, "error_code negative", "an error_code below 0"),
    Cell(RANGES, "error_code zero", "an error_code of 0"),
    Cell(RANGES, "error_code positive", "an error_code above 0"),
    Cell(RANGES, "error_code -32768", "an error_code at the short's lower end"),
    Cell(RANGES, "error_code 32767", "an error_code at the short's upper end"),
    Cell(RANGES, "to of 7 digits", "a to at its shortest"),
    Cell(RANGES, "to of 15 digits", "a to at its longest"),
    Cell(RANGES, "non-ASCII text", "a string value or key with a character outside ASCII"),
]
_SCENARIO_CELLS = [
    Cell(SCENARIOS, "batch of 1 record", "a callback with one record"),
    Cell(SCENARIOS, "batch of 2-10 records", "a callback with 2 to 10 records"),
    Cell(SCENARIOS, "batch of 11-150 records", "a callback with 11 to 150 records"),
    Cell(SCENARIOS, "batch of over 150 records", "a callback with more than 150 records (the suite sends 1,000)"),
    Cell(SCENARIOS, "duplicate, sequential", "a callback identical to one delivered and answered before it"),
    Cell(SCENARIOS, "duplicate, concurrent", "a callback identical to one still in flight"),
    Cell(SCENARIOS, "out of order", "a report older than one already delivered for the same message"),
    Cell(SCENARIOS, BURST, "a callback of the burst (--concurrency at once)"),
    Cell(SCENARIOS, STREAM, "a callback of the sustained stream"),
]


def _stored_cells(with_preparer: bool, with_status_map: bool) -> list[Cell]:
    return [
        Cell(STORED, r.id, f"messages judged for {r.title.lower()}")
        for r in needing_reader()
        if (with_preparer or not r.needs_preparer) and (with_status_map or not r.needs_status_map)
    ]


def cells(*, with_reader: bool = True, with_preparer: bool = True, with_status_map: bool = True) -> list[Cell]:
    """Every cell of the matrix, in the order the reports show them (the stored-state cells with a reader only, those
    of a requirement that needs a preparer only with one, those judged against the receiver's status map with one
    only)."""
    out = _status_cells() + _type_cells() + _pair_cells() + _FIELD_CELLS + _RANGE_CELLS + _SCENARIO_CELLS
    return out + (_stored_cells(with_preparer, with_status_map) if with_reader else [])


@dataclass(frozen=True)
class CellCount:
    """One cell in a run: deliveries (or, for stored state, messages) that exercised it, and how many went right."""

    cell: Cell
    exercised: int
    right: int  # answered 200; for a stored-state cell: stored right

    @property
    def state(self) -> str:
        """``passed`` (exercised, every one right), ``failed`` (some not right) or ``not_exercised``."""
        if not self.exercised:
            return "not_exercised"
        return "passed" if self.right == self.exercised else "failed"

    def as_json(self) -> dict[str, Any]:
        """For the JSON summary."""
        unit = "messages" if self.cell.group == STORED else "deliveries"
        right = "stored_right" if self.cell.group == STORED else "answered_200"
        return {"name": self.cell.name, "meaning": self.cell.meaning, "unit": unit, "exercised": self.exercised,
                right: self.right, "state": self.state}  # fmt: skip


def _walk(value: Any) -> Iterator[str]:
    """Every string of a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_TOP = frozenset({"api_job_id", "client_job_id", "data"})
_RECORD = frozenset(
    {"type", "message_id", "status", "timestamp", "micro_timestamp", "to", "from", "sms_from", "viber_from"}
    | {"client_message_id", "error_code"}
)
_KNOWN_STATUSES = frozenset(contract.KNOWN_STATUSES)
_KNOWN_TYPES = frozenset(contract.KNOWN_TYPES)


def body_cells(body: Any) -> set[str]:
    """The names of the cells one callback body exercises by its content alone."""
    hit: set[str] = set()
    if not isinstance(body, dict):
        return hit
    if "client_job_id" not in body:
        hit.add("client_job_id absent")
    elif body["client_job_id"] == "":
        hit.add('client_job_id ""')
    elif isinstance(body["client_job_id"], str) and len(body["client_job_id"]) == 255:
        hit.add("client_job_id of 255 characters")
    if set(body) - _TOP:
        hit.add("extra top-level field")
    records = [r for r in body.get("data") or [] if isinstance(r, dict)] if isinstance(body.get("data"), list) else []
    n = len(records)
    if n:
        hit.add(
            "batch of 1 record"
            if n == 1
            else "batch of 2-10 records"
            if n <= 10
            else "batch of 11-150 records"
            if n <= 150
            else "batch of over 150 records"
        )
    for record in records:
        _record_cells(record, hit)
    if any(not s.isascii() for s in _walk(body)):
        hit.add("non-ASCII text")
    return hit


def _record_cells(record: dict[str, Any], hit: set[str]) -> None:
    status, kind = record.get("status"), record.get("type")
    known_status = isinstance(status, str) and status in _KNOWN_STATUSES
    known_type = isinstance(kind, str) and kind in _KNOWN_TYPES
    hit.add(str(status) if known_status else "unknown status")
    hit.add(str(kind) if known_type else "unknown type")
    if known_status and known_type:
        hit.add(f"{kind} × {status}")
    hit.add("client_message_id present" if "client_message_id" in record else "client_message_id absent")
    sender = record.get("from")
    if isinstance(sender, str) and sender:
        hit.add("sender as numeric from" if sender.isdigit() else "sender as alphanumeric from")
    if "sms_from" in record:
        hit.add("sender as sms_from")
    if "viber_from" in record:
        hit.add("sender as viber_from")
    if set(record) - _RECORD:
        hit.add("extra record field")
    for key in ("timestamp", "micro_timestamp"):
        stamp = _int(record.get(key))
        if stamp is None:
            continue
        if stamp > INT32_MAX:
            hit.add("timestamp past 32 bits")
        if 10**9 <= stamp < 10**11:
            hit.add("timestamp in seconds")
        elif 10**11 <= stamp < 10**14:
            hit.add("timestamp in milliseconds")
        elif 10**14 <= stamp < 10**17:
            hit.add("timestamp in microseconds")
    code = _int(record.get("error_code"))
    if code is not None:
        hit.add("error_code negative" if code < 0 else "error_code zero" if code == 0 else "error_code positive")
        if code == SHORT_MIN:
            hit.add("error_code -32768")
        elif code == SHORT_MAX:
            hit.add("error_code 32767")
    to = record.get("to")
    if isinstance(to, str) and len(to) in (7, 15):
        hit.add(f"to of {len(to)} digits")


def _stamp(record: dict[str, Any]) -> tuple[int, int] | None:
    """A record's age as (timestamp, micro_timestamp), when both are whole numbers."""
    stamp, micro = _int(record.get("timestamp")), _int(record.get("micro_timestamp"))
    return None if stamp is None or micro is None else (stamp, micro)


class Coverage:
    """The counts of one run's cells, fed with every exchange (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exercised: dict[str, int] = {}
        self._right: dict[str, int] = {}
        self._bodies: dict[bytes, float] = {}  # body digest -> when its latest delivery ended
        self._newest: dict[tuple[str, str], tuple[int, int]] = {}  # (api_job_id, message_id) -> newest stamp
        self.seconds = 0.0  # time spent counting

    def _count(self, names: Iterable[str], right: bool, weight: int = 1) -> None:
        for name in names:
            self._exercised[name] = self._exercised.get(name, 0) + weight
            if right:
                self._right[name] = self._right.get(name, 0) + weight

    def observe(self, body: bytes, started: float, elapsed: float, answered_200: bool) -> None:
        """Count one delivery that went out: the cells its body exercises, its duplicates and out-of-order reports."""
        began = time.perf_counter()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        hit = body_cells(payload)
        digest = hashlib.blake2b(body, digest_size=12).digest()
        ended = started + elapsed
        with self._lock:
            last_end = self._bodies.get(digest)
            if last_end is not None:
                hit.add("duplicate, concurrent" if last_end > started else "duplicate, sequential")
            if last_end is not None or len(self._bodies) < TRACKED:
                self._bodies[digest] = max(ended, last_end or ended)
            if isinstance(payload, dict) and isinstance(payload.get("data"), list):
                job = str(payload.get("api_job_id"))
                for record in payload["data"]:
                    stamp = _stamp(record) if isinstance(record, dict) else None
                    if stamp is None:
                        continue
                    key = (job, str(record.get("message_id")))
                    newest = self._newest.get(key)
                    if newest is not None and stamp < newest:
                        hit.add("out of order")
                    elif newest is not None or len(self._newest) < TRACKED:
                        self._newest[key] = stamp
            self._count(hit, answered_200)
            self.seconds += time.perf_counter() - began

    def scenario(self, name: str, answered_200: bool) -> None:
        """Count one delivery of a scenario its body cannot show (:data:`BURST`, :data:`STREAM`)."""
        with self._lock:
            self._count((name,), answered_200)

    def stored(self, requirement: Requirement, judged: int, wrong: int) -> None:
        """Count the messages a stored-state requirement was judged on, and how many were stored wrong."""
        with self._lock:
            self._count((requirement.id,), True, max(0, judged - wrong))
            self._exercised[requirement.id] += min(wrong, judged)

    def counts(
        self, *, with_reader: bool, with_preparer: bool = True, with_status_map: bool = False
    ) -> list[CellCount]:
        """Every cell with its counts, in report order."""
        with self._lock:
            return [
                CellCount(cell, self._exercised.get(cell.name, 0), self._right.get(cell.name, 0))
                for cell in cells(with_reader=with_reader, with_preparer=with_preparer, with_status_map=with_status_map)
            ]
