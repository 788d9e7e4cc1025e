"""Generated callback payloads: Hypothesis strategies derived from the contract.

How generation works, and why (see also ARCHITECTURE.md):

* ``hypothesis_jsonschema.from_schema`` on the whole callback schema is correct but slow (~15-20 payloads/s):
  it canonicalises and filters the record's ``anyOf`` and the regex patterns on every draw. It is used where it
  is right: on the *leaf* schemas (strings with a length rule, bounded integers, the unknown-enum-value schema),
  each resolved from ``schema/callback.schema.json`` so the contract stays the single source.
* The structure is composed here. Composing with one Hypothesis draw per decision still costs ~1.8 ms per
  callback (every draw pays for Hypothesis's bookkeeping, and ``st.one_of`` builds a fresh filtered strategy on
  every draw). So each record draws **one fixed-size byte string** and decodes its decisions and realistic values
  from it (structured fuzzing, as libFuzzer's FuzzedDataProvider does). Hypothesis still chooses and shrinks
  those bytes; every decision reads a zero byte as its realistic, most common option, so shrinking -- which moves
  bytes toward zero -- moves a failing payload toward the plainest callback that still fails.
* The rarer branches are real Hypothesis draws from the schema's own leaf strategies: unicode text, unknown
  statuses and types, the whole short range of error codes, 64-bit integers; plus unknown extra fields at both
  levels, empty strings, both sender forms, timestamp boundaries and batches of several records.
* Every payload drawn is validated against the schema before it is sent (check ``payload_matches_contract``);
  ``tests/test_payloads.py`` proves it for thousands of draws and measures that the rare branches are reached.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conformance import contract

__all__ = ["callback", "record"]

Strategy = st.SearchStrategy[Any]
Draw = Callable[[Strategy], Any]

RECORD_BYTES = 64
TOP_BYTES = 24

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_LOWER = "abcdefghijklmnopqrstuvwxyz_"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "
_TYPES = ("SMS", "SMS", "SMS", "VIBER", "IM_VIBER", "INTERNAL")
_STATUSES = ("DELIVRD", *(s for s in contract.KNOWN_STATUSES if s != "DELIVRD"))
_SENDERS = ("Fortytwo", "InfoSMS", "Bank", "12345")
_BOUNDARIES = (0, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 1)
_ERROR_CODES = (943, 1, 8, 34)
# Line terminators are kept out of sender text: a regex '.' does not match them in every validator.
_LINE_SAFE = st.characters(exclude_characters="\n\r\u2028\u2029", exclude_categories=["Cs"])


def _leaf(*path: str) -> Strategy:
    """hypothesis-jsonschema's strategy for one leaf of the contract, ``$ref`` resolved."""
    node: dict[str, Any] = contract.load_schema()
    for key in path:
        node = node[key]
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        target: dict[str, Any] = contract.load_schema()
        for key in ref.removeprefix("#/").split("/"):
            target = target[key]
        node = {**target, **node}
    for key in ("description", "$comment", "examples", "anyOf"):
        node.pop(key, None)
    return from_schema(node)


_RECORD = ("definitions", "callback_info", "properties")
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False),
)


@functools.cache
def _rare() -> dict[str, Strategy]:
    """The rare branches: real Hypothesis draws, mostly hypothesis-jsonschema leaves (built once)."""
    return {
        "unknown": _leaf("definitions", "unknown_enum_value"),
        "message_id": _leaf(*_RECORD, "message_id"),
        "timestamp": _leaf(*_RECORD, "timestamp"),
        "error_code": _leaf(*_RECORD, "error_code"),
        "viber_from": _leaf(*_RECORD, "viber_from"),
        "client_message_id": _leaf(*_RECORD, "client_message_id"),
        "api_job_id": _leaf("properties", "api_job_id"),
        "client_job_id": _leaf("properties", "client_job_id"),
        "sender_text": st.text(_LINE_SAFE, min_size=1, max_size=11),
        "extra_names": st.lists(st.text(_LOWER, min_size=2, max_size=14), min_size=1, max_size=3, unique=True),
        "extra_value": st.one_of(
            _SCALAR, st.lists(_SCALAR, max_size=3), st.dictionaries(st.text(_LOWER, max_size=6), _SCALAR, max_size=2)
        ),
        "record_bytes": st.binary(min_size=RECORD_BYTES, max_size=RECORD_BYTES),
        "top_bytes": st.binary(min_size=TOP_BYTES, max_size=TOP_BYTES),
    }


class _Reader:
    """Decisions and values decoded from bytes Hypothesis drew; past the end every byte reads as 0."""

    __slots__ = ("_blob", "_pos")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._pos = 0

    def byte(self) -> int:
        pos = self._pos
        self._pos = pos + 1
        return self._blob[pos] if pos < len(self._blob) else 0

    def below(self, n: int) -> int:
        """0 to n-1 (n at most 256)."""
        return self.byte() % n

    def rare(self, percent: int) -> bool:
        """True about ``percent`` % of the time; a zero byte is never rare."""
        return self.byte() % 100 >= 100 - percent

    def number(self, nbytes: int) -> int:
        value = 0
        for _ in range(nbytes):
            value = (value << 8) | self.byte()
        return value

    def pick(self, options: tuple[Any, ...]) -> Any:
        return options[self.below(len(options))]

    def digits(self, length: int) -> str:
        """``length`` digits, the first not 0."""
        return str(10 ** (length - 1) + self.number((length * 10 + 23) // 24 * 1 + 1) % (9 * 10 ** (length - 1)))


def _enum(r: _Reader, draw: Draw, known: tuple[str, ...], rare_percent: int) -> str:
    if not r.rare(rare_percent):
        return str(r.pick(known))
    # a value the platform may add: mostly one that looks like a status (3 to 32 characters), sometimes any
    # non-empty text from the schema's leaf (unicode included)
    if r.below(3) == 2:
        return str(draw(_rare()["unknown"]))
    return "".join(_UPPER[r.below(len(_UPPER))] for _ in range(3 + r.below(30)))


def _sender(r: _Reader, draw: Draw) -> str:
    kind = r.below(20)  # names 40 %, numeric 25 %, alphanumeric 25 %, any text 10 %
    if kind < 8:
        return str(r.pick(_SENDERS))
    if kind < 13:
        return r.digits(1 + r.below(15))
    if kind < 18:
        return "".join(_ALNUM[r.below(len(_ALNUM))] for _ in range(1 + r.below(11)))
    return str(draw(_rare()["sender_text"]))


def _timestamp(r: _Reader, draw: Draw, scale: int) -> int:
    if r.rare(10):
        return int(draw(_rare()["timestamp"]))
    if r.rare(10):
        return int(r.pick(_BOUNDARIES))
    return (1_400_000_000 + r.number(4) % 600_000_000) * scale


def _extras(r: _Reader, draw: Draw, known: frozenset[str], percent: int) -> dict[str, Any]:
    """Unknown extra fields (forward compatibility): in ``percent`` % of objects, one to three of any JSON value."""
    if not r.rare(percent):
        return {}
    names = draw(_rare()["extra_names"])
    return {f"x{name}": draw(_rare()["extra_value"]) for name in names if f"x{name}" not in known}


_RECORD_FIELDS = frozenset(contract.load_schema()["definitions"]["callback_info"]["properties"])
_TOP_FIELDS = frozenset(contract.load_schema()["properties"])


def _record(draw: Draw) -> dict[str, Any]:
    rare = _rare()
    r = _Reader(draw(rare["record_bytes"]))
    rec: dict[str, Any] = {"type": _enum(r, draw, _TYPES, 15)}
    rec["message_id"] = draw(rare["message_id"]) if r.rare(10) else r.digits(20)
    rec["status"] = _enum(r, draw, _STATUSES, 20)
    millis = r.below(2) == 0  # the documented example holds milliseconds
    rec["timestamp"] = _timestamp(r, draw, 1000 if millis else 1)
    rec["micro_timestamp"] = _timestamp(r, draw, 1_000_000 if millis else 1000)
    rec["to"] = r.digits(7 + r.below(9))
    form = r.below(4)  # the sender: from, or sms_from and/or viber_from
    if form == 0:
        rec["from"] = _sender(r, draw)
    if form in (1, 2):
        rec["sms_from"] = "" if r.rare(25) else _sender(r, draw)
    if form in (1, 3):
        kind = r.below(20)  # "" as in the documented example 60 %, a name 25 %, any text 15 %
        rec["viber_from"] = "" if kind < 12 else r.pick(_SENDERS) if kind < 17 else draw(rare["viber_from"])
    if not r.rare(20):  # present in four records of five
        rec["client_message_id"] = draw(rare["client_message_id"]) if r.rare(15) else f"reference{r.number(2)}"
    if r.rare(40):
        rec["error_code"] = draw(rare["error_code"]) if r.rare(50) else r.pick(_ERROR_CODES)
    else:
        rec["error_code"] = 0
    rec.update(_extras(r, draw, _RECORD_FIELDS, 15))
    return rec


@st.composite
def _record_strategy(draw: Draw) -> dict[str, Any]:
    return _record(draw)


@st.composite
def _callback(draw: Draw, max_records: int) -> dict[str, Any]:
    rare = _rare()
    r = _Reader(draw(rare["top_bytes"]))
    body: dict[str, Any] = {
        "api_job_id": draw(rare["api_job_id"]) if r.rare(10) else str(uuid.UUID(int=r.number(16))),
    }
    presence = r.byte() % 100
    if presence >= 30:  # absent in 30 % of callbacks, as when the send request had no job_id
        body["client_job_id"] = (
            "" if presence >= 85 else draw(rare["client_job_id"]) if presence >= 70 else (f"job-{r.number(2)}")
        )
    count = 2 + r.below(max(1, max_records - 1)) if r.rare(25) else 1
    body["data"] = [_record(draw) for _ in range(count)]
    body.update(_extras(r, draw, _TOP_FIELDS, 15))
    return body


def record() -> Strategy:
    """One delivery report (a ``data[]`` record)."""
    return _record_strategy()


@functools.cache
def callback(max_records: int = 5) -> Strategy:
    """One whole callback body: api_job_id, an optional client_job_id, 1 to ``max_records`` records."""
    return _callback(max_records)
