"""What a callback exercises -- its *aspect*: realistic (judged at MUST), or one aspect judged at its own requirement.

The schema allows far more than the platform sends. A receiver that answers 500 to a NUL character (as a
PostgreSQL text column does) must not flip between pass and fail with the seed, so every payload has exactly one
aspect, and is judged at the level of the requirement the catalogue names for that aspect
(``Requirement.aspect``):

* **realistic** -- values the platform sends or plausibly will: run-tagged ``api_job_id``s, digit
  ``message_id``s, statuses and types of the documented shape (upper-case words such as ``DELIVRD``,
  ``IM_VIBER``), printable unicode text, timestamps of this century and the next in seconds, milliseconds or
  microseconds, error codes over the whole short range. Judged at MUST (the generated-callbacks requirement).
* aspects beyond it, each with its own requirement: an **unknown status**, **unknown extra fields**, **unknown
  network types**, and **adversarial** values: control characters, NUL, unprintable or unassigned characters,
  text of no documented shape, timestamps outside 2000-2199, strings far longer than any id -- values the schema
  allows but nothing suggests the platform sends.

:func:`aspect` classifies any payload (a generated one, a fixed case, a captured one) by what it contains, and
:func:`realistic_twin` removes one aspect again, so that a failure can be pinned on the aspect or on the rest.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from typing import Any

from conformance.contract import schema as contract
from conformance.requirements import by_aspect

__all__ = [
    "ASPECTS",
    "HOSTILE",
    "HOSTILE_CHARACTERS",
    "ID_PREFIX",
    "REALISTIC_SECONDS",
    "REQUIREMENT",
    "SHAPE",
    "Ids",
    "adversarial_values",
    "aspect",
    "is_realistic_timestamp",
    "realistic_twin",
    "requirement_of",
    "run_job_id",
]

ASPECTS = ("adversarial", "extra_fields", "unknown_type", "unknown_status", "realistic")
"""Most specific first: a payload with an adversarial value is adversarial, whatever else it carries."""

REQUIREMENT = {name: by_aspect(name).id for name in ASPECTS}
"""The requirement each aspect's failures are recorded under, from the catalogue."""

REALISTIC_SECONDS = (946_684_800, 7_258_118_400)
"""2000-01-01 to 2200-01-01 (exclusive): this century and the next, in UNIX seconds."""
_SCALES = (1, 1000, 1_000_000)  # seconds, milliseconds, microseconds: the documentation and its example disagree

HOSTILE = ("'", '"', "\\", ";--", "' OR '1'='1", "<script>", "%s%n", "${jndi:ldap://x}", "{{7*7}}", "$(id)")
"""Text the contract allows that breaks receivers building SQL, HTML, shell commands or format strings by
concatenation: adversarial values, never drawn for a realistic payload."""
HOSTILE_CHARACTERS = "'\"\\;<>%${}()"
"""The characters of :data:`HOSTILE`: realistic text never holds them, so that any of them marks a value adversarial."""

SHAPE = re.compile(r"[A-Z][A-Z0-9_]{0,31}\Z")
"""The documented shape of statuses and types (``DELIVRD``, ``SEEN``, ``IM_VIBER``): 1-32 upper-case word characters."""

_TEXT_LIMITS = {"api_job_id": 64, "client_job_id": 255, "message_id": 32, "viber_from": 64, "client_message_id": 255}
_TOP_TEXT = ("api_job_id", "client_job_id")
_RECORD_TEXT = ("type", "message_id", "status", "to", "from", "sms_from", "viber_from", "client_message_id")
_TOP_FIELDS = frozenset(contract.load_schema()["properties"])
_RECORD_FIELDS = frozenset(contract.load_schema()["definitions"]["callback_info"]["properties"])


ID_PREFIX = "dlrc"
"""Every ``api_job_id`` the tool makes is ``dlrc-<run id>-<UUID>``: one rule finds (and purges) what any run stored."""
_SPREAD = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: multiplying by it modulo 2^122 is a bijection


def run_job_id(run_id: str, number: int) -> str:
    """The ``number``-th api_job_id of id stream ``number >> 64`` of a run: ``dlrc-<run id>-<UUID v4 layout>``."""
    v = ((number + 1) * _SPREAD) % (1 << 122)  # + 1: the first id is no all-zero UUID
    v = ((v ^ (v >> 61)) * _SPREAD) % (1 << 122)  # xor-shift and multiply again: every bit depends on every other
    a, b, c, d, e = v >> 90, (v >> 74) & 0xFFFF, (v >> 62) & 0xFFF, (v >> 48) & 0x3FFF, v & 0xFFFFFFFFFFFF
    return f"{ID_PREFIX}-{run_id}-{a:08x}-{b:04x}-4{c:03x}-{0x8000 | d:04x}-{e:012x}"


class Ids:
    """Unique run-tagged ids, the one scheme of every id the tool makes: ``api_job_id`` ``dlrc-<run id>-<UUID>``,
    ``message_id`` 20 digits (``1``, the run id as 10 digits, the stream, an 8-digit counter).

    Counters, not draws: Hypothesis repeats values often (100,000 drawn UUIDs held 14,690 distinct ones), and a
    replay of the same seeded search from fresh counters produces the same ids again, which shrinking relies on.
    ``stream`` (0-9) keeps apart the sources of one run that count on their own: the generator worker (0), the
    scenarios of the main process (1), ``send`` (2). Thread-safe.
    """

    def __init__(self, tag: str = "00000000", jobs: int = 0, messages: int = 0, stream: int = 0) -> None:
        self.tag = tag
        self._prefix = f"1{int(tag, 16) % 10**10:010d}{stream}"  # starts with 1: 20 digits, past a signed 64-bit int
        self._stream = stream
        self._jobs = jobs
        self._messages = messages
        self._lock = threading.Lock()

    def position(self) -> tuple[int, int]:
        """How many ids of each kind were made: an ``Ids(tag, *position)`` goes on from here."""
        return self._jobs, self._messages

    def job_id(self) -> str:
        """A new api_job_id: ``dlrc-<run id>-<UUID>``."""
        with self._lock:
            number = self._jobs
            self._jobs += 1
        return run_job_id(self.tag, (self._stream << 64) | number)

    def message_id(self) -> str:
        """A new 20-digit message id (10^8 per stream and run; past that the id grows a digit, still unique)."""
        with self._lock:
            number = self._messages
            self._messages += 1
        return f"{self._prefix}{number:08d}"

    def pattern(self) -> re.Pattern[bytes]:
        """The ids this source makes, as they appear in an encoded body (to compare bodies whatever their ids)."""
        return re.compile(
            rb"%s-%s-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|%s[0-9]{8,}"
            % (ID_PREFIX.encode(), re.escape(self.tag.encode()), self._prefix.encode())
        )


def is_realistic_timestamp(value: Any) -> bool:
    """A time of this century or the next, in seconds, milliseconds or microseconds."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    low, high = REALISTIC_SECONDS
    return any(low * scale <= value < high * scale for scale in _SCALES)


def _text_problem(where: str, name: str, value: Any) -> str:
    if not isinstance(value, str):
        return ""
    if not value.isprintable():
        odd = next(c for c in value if not c.isprintable())
        return f"{where}{name} holds the unprintable character U+{ord(odd):04X}"
    limit = _TEXT_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        return f"{where}{name} is {len(value)} characters long"
    if any(c in HOSTILE_CHARACTERS for c in value):
        odd = next(c for c in value if c in HOSTILE_CHARACTERS)
        return f"{where}{name} holds {odd!r}, which breaks SQL, HTML or shell text built by concatenation"
    if name in ("status", "type") and not SHAPE.match(value):
        return f"{where}{name} {value!r} is not of the documented shape (upper-case, at most 32 characters)"
    if name == "message_id" and not value.isdigit():
        return f"{where}message_id {value!r} is not digits"
    return ""


def adversarial_values(payload: Any) -> list[str]:
    """Every value of ``payload`` outside the realistic profile, described (empty: nothing adversarial)."""
    if not isinstance(payload, dict):
        return []
    found = [p for name in _TOP_TEXT if (p := _text_problem("", name, payload.get(name)))]
    records = payload.get("data")
    for i, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict):
            continue
        where = f"data[{i}]."
        found += [p for name in _RECORD_TEXT if (p := _text_problem(where, name, record.get(name)))]
        for name in ("timestamp", "micro_timestamp"):
            value = record.get(name)
            if isinstance(value, int) and not is_realistic_timestamp(value):
                found.append(f"{where}{name} {value} is not a time between 2000 and 2199")
    return found


def _records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    data = payload.get("data")
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def aspect(payload: Any) -> str:
    """What ``payload`` exercises beyond the plainest realistic callback: one of :data:`ASPECTS`."""
    if not isinstance(payload, dict):
        return "realistic"
    if adversarial_values(payload):
        return "adversarial"
    records = _records(payload)
    if set(payload) - _TOP_FIELDS or any(set(r) - _RECORD_FIELDS for r in records):
        return "extra_fields"
    if any(r.get("type") not in contract.KNOWN_TYPES for r in records):
        return "unknown_type"
    if any(r.get("status") not in contract.KNOWN_STATUSES for r in records):
        return "unknown_status"
    return "realistic"


def requirement_of(payload: Any) -> str:
    """The requirement a failure on ``payload`` is recorded under: that of the aspect it exercises."""
    return REQUIREMENT[aspect(payload)]


def _printable(value: str, fallback: str) -> str:
    """Each unprintable character replaced by a printable one of the same width in UTF-8 (ASCII stays ASCII), so
    that a receiver failing on non-ASCII text fails the twin too: the fault is the text's, not the control's."""
    return "".join(c if c.isprintable() else "?" if c < "\x80" else "é" for c in value) or fallback


def realistic_twin(
    payload: dict[str, Any], which: str, *, job_id: Callable[[], str], message_id: Callable[[], str]
) -> dict[str, Any]:
    """``payload`` without its aspect ``which`` (extra fields dropped, unknown types made ``SMS``, adversarial
    values made realistic; an odd status or type becomes an unknown one of the documented shape), under new ids:
    the platform never sends one message id with two contents."""
    twin = copy.deepcopy(payload)
    twin["api_job_id"] = job_id()
    for record in _records(twin):
        record["message_id"] = message_id()
    if which == "extra_fields":
        for key in set(twin) - _TOP_FIELDS:
            del twin[key]
        for record in _records(twin):
            for key in set(record) - _RECORD_FIELDS:
                del record[key]
    elif which == "unknown_type":
        for record in _records(twin):
            if record.get("type") not in contract.KNOWN_TYPES:
                record["type"] = "SMS"
    elif which == "unknown_status":
        for record in _records(twin):
            if record.get("status") not in contract.KNOWN_STATUSES:
                record["status"] = "DELIVRD"
    elif which == "adversarial":
        _make_realistic(twin)
    return twin


def _make_realistic(body: dict[str, Any]) -> None:
    if isinstance(body.get("client_job_id"), str):
        body["client_job_id"] = _printable(body["client_job_id"], "job-1")[: _TEXT_LIMITS["client_job_id"]]
    for record in _records(body):
        # an odd status is also an unknown one: the twin keeps it unknown, so that a receiver refusing unknown
        # statuses fails the twin too and the fault is pinned on the unknown status, not on the odd character
        for name, fallback in (("status", "X_NEW_STATUS"), ("type", "X_NEW_TYPE")):
            if _text_problem("", name, record.get(name)):
                record[name] = fallback
        for name, fallback in (("from", "Fortytwo"), ("sms_from", "")):
            if isinstance(record.get(name), str):
                record[name] = _printable(record[name], fallback)
        if isinstance(record.get("viber_from"), str):
            record["viber_from"] = _printable(record["viber_from"], "")[: _TEXT_LIMITS["viber_from"]]
        if isinstance(record.get("client_message_id"), str):
            record["client_message_id"] = _printable(record["client_message_id"], "reference1")[:64]
        for name, example in (("timestamp", 1443165174145), ("micro_timestamp", 1443165174145000)):
            if isinstance(record.get(name), int) and not is_realistic_timestamp(record[name]):
                record[name] = example
