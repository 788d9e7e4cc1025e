"""Generated callback payloads: Hypothesis strategies derived from the contract, one aspect per payload.

How generation works, and why (see also ARCHITECTURE.md):

* ``hypothesis_jsonschema.from_schema`` on the whole callback schema is correct but slow (~15-20 payloads/s):
  it canonicalises and filters the record's ``anyOf`` and the regex patterns on every draw. It is used where it
  is right: on the *leaf* schemas (bounded integers, strings with a length rule), each resolved from
  ``schema/callback.schema.json`` so the contract stays the single source.
* The structure is composed here. Composing with one Hypothesis draw per decision still costs ~1.8 ms per
  callback (every draw pays for Hypothesis's bookkeeping, and ``st.one_of`` builds a fresh filtered strategy on
  every draw). So each record draws **one fixed-size byte string** and decodes its decisions and realistic values
  from it (structured fuzzing, as libFuzzer's FuzzedDataProvider does). Hypothesis still chooses and shrinks
  those bytes; every decision reads a zero byte as its realistic, most common option, so shrinking -- which moves
  bytes toward zero -- moves a failing payload toward the plainest callback that still fails.
* **Aspects** (``aspects.py``): every payload is realistic -- what the platform sends or plausibly
  will -- except for at most one *aspect*: an unknown status (MUST), unknown extra fields, an
  unknown network type or adversarial values (NUL, other control characters, boundaries,
  text of no documented shape, very long strings). The aspect is fixed by the payload's position in its batch
  (:data:`BATCH_ASPECTS`), so every seed covers every aspect within the first ten payloads, and a shrunk payload
  keeps its aspect: one fault is judged at one level whatever the seed.
* **Unique ids** (:class:`Ids`): ``api_job_id`` is ``dlrc-<run id>-<UUID>`` like every id the tool makes,
  ``message_id`` 20 digits (as in the documented example, past a signed 64-bit integer) from a counter; no two
  payloads of a run share one, so the platform's rule "one message id and status, one content" holds for what
  the tool sends.
* Every payload drawn is validated against the schema before it is sent (check ``payload_matches_contract``);
  ``tests/generation/test_payloads.py`` proves it for thousands of draws and that each aspect is what it says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conformance.contract import schema as contract
from conformance.generation import aspects
from conformance.generation.aspects import Ids

__all__ = ["BATCH_ASPECTS", "batch", "callback", "record"]

Strategy = st.SearchStrategy[Any]
Draw = Callable[[Strategy], Any]

RECORD_BYTES = 48
TOP_BYTES = 24

BATCH_ASPECTS = (
    "realistic",
    "unknown_status",
    "extra_fields",
    "nul",
    "realistic",
    "unknown_type",
    "realistic",
    "adversarial",
    "unknown_status",
    "realistic",
)
"""The aspect of the payload at each position of a batch (cycled): four plain realistic payloads in ten, two with an
unknown status, one each with extra fields, an unknown type, a NUL character, another adversarial value."""

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_LOWER = "abcdefghijklmnopqrstuvwxyz_"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "
_ASCII = "".join(chr(c) for c in range(32, 127))
_TYPES = ("SMS", "SMS", "SMS", "VIBER", "IM_VIBER", "INTERNAL")
_STATUSES = ("DELIVRD", *(s for s in contract.KNOWN_STATUSES if s != "DELIVRD"))
_SENDERS = ("Fortytwo", "InfoSMS", "Bank", "12345")
_ERROR_CODES = (943, 1, 8, 34)
_LOW, _HIGH = aspects.REALISTIC_SECONDS
# adversarial timestamps: far outside this century and the next, up to the schema's bounds
_BOUNDARIES = (2**63 - 1, 0, 2**53, 2**62, 1, 2**63 - 2, 2**40)
# control, format, unassigned, private-use and non-characters; a zero byte picks the first
_ODD = "\x01\x07\x08\t\n\r\x0b\x0c\x1b\x1f\x7f\x80\x9f\u2028\u2029\ufeff\u200b\u00ad\ue000\ufffe\uffff\U0010ffff"
_LINE_TERMINATORS = "\n\r\u2028\u2029"  # a sender (pattern ".{1,11}") cannot hold them
# printable unicode: no control, format, surrogate, private-use, unassigned or separator character but the space
# and none of the characters of hostile text (quotes, backslash, ;<>%${}()): those make a value adversarial
_PRINTABLE = st.characters(
    exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"],
    include_characters=" ",
    exclude_characters=aspects.HOSTILE_CHARACTERS,
)
_TEXT_FIELDS = (
    "status",
    "message_id",
    "api_job_id",
    "client_message_id",
    "sender",
    "viber_from",
    "client_job_id",
    "type",
)


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
    for key in ("description", "$comment", "examples", "anyOf", "format"):
        node.pop(key, None)
    return from_schema(node)


_RECORD = ("definitions", "callback_info", "properties")
# the values of unknown extra fields: JSON of every type, ASCII text (unicode is exercised where it is documented)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.text(_ASCII, max_size=12),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
)


@functools.cache
def _rare() -> dict[str, Strategy]:
    """The rare branches: real Hypothesis draws, hypothesis-jsonschema leaves where the contract bounds them."""
    return {
        "timestamp": _leaf(*_RECORD, "timestamp"),
        "error_code": _leaf(*_RECORD, "error_code"),
        "text": st.text(_PRINTABLE, min_size=1, max_size=24),
        "client_job_id": st.text(_PRINTABLE, min_size=1, max_size=255),
        "sender_text": st.text(_PRINTABLE, min_size=1, max_size=11),
        "any_text": st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=16),
        "extra_names": st.lists(st.text(_LOWER, min_size=1, max_size=14), min_size=1, max_size=3, unique=True),
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

    def pick(self, options: tuple[Any, ...] | str) -> Any:
        return options[self.below(len(options))]

    def digits(self, length: int) -> str:
        """``length`` digits, the first not 0."""
        return str(10 ** (length - 1) + self.number((length * 10 + 23) // 24 + 1) % (9 * 10 ** (length - 1)))

    def word(self, known: tuple[str, ...]) -> str:
        """A status or type of the documented shape that is not a known one: 3 to 32 upper-case characters."""
        value = _UPPER[self.below(26)] + "".join(_UPPER[self.below(27)] for _ in range(2 + self.below(30)))
        return value + "X" if value in known else value


def _sender(r: _Reader, draw: Draw) -> str:
    kind = r.below(20)  # names 40 %, numeric 25 %, alphanumeric 25 %, printable unicode 10 %
    if kind < 8:
        return str(r.pick(_SENDERS))
    if kind < 13:
        return r.digits(1 + r.below(15))
    if kind < 18:
        return "".join(_ALNUM[r.below(len(_ALNUM))] for _ in range(1 + r.below(11)))
    return str(draw(_rare()["sender_text"]))


def _record(draw: Draw, ids: Ids) -> dict[str, Any]:
    """A realistic record."""
    rare = _rare()
    r = _Reader(draw(rare["record_bytes"]))
    rec: dict[str, Any] = {"type": r.pick(_TYPES), "message_id": ids.message_id(), "status": r.pick(_STATUSES)}
    seconds = _LOW + r.number(4) % (_HIGH - _LOW)
    millis = seconds * 1000 + r.number(2) % 1000
    if r.below(2) == 0:  # the documented example holds milliseconds and microseconds
        rec["timestamp"] = millis
        rec["micro_timestamp"] = millis * 1000 + r.number(2) % 1000
    else:  # the field table says seconds and milliseconds
        rec["timestamp"] = seconds
        rec["micro_timestamp"] = millis
    rec["to"] = r.digits(7 + r.below(9))
    form = r.below(4)  # the sender: from, or sms_from and/or viber_from
    if form == 0:
        rec["from"] = _sender(r, draw)
    if form in (1, 2):
        rec["sms_from"] = "" if r.rare(25) else _sender(r, draw)
    if form in (1, 3):
        kind = r.below(20)  # "" as in the documented example 60 %, a name 25 %, printable unicode 15 %
        rec["viber_from"] = "" if kind < 12 else r.pick(_SENDERS) if kind < 17 else draw(rare["text"])
    if not r.rare(20):  # present in four records of five
        rec["client_message_id"] = draw(rare["text"]) if r.rare(15) else f"reference{r.number(2)}"
    if r.rare(40):
        rec["error_code"] = draw(rare["error_code"]) if r.rare(50) else r.pick(_ERROR_CODES)
    else:
        rec["error_code"] = 0
    return rec


def _extras(draw: Draw) -> dict[str, Any]:
    """One to three unknown fields (forward compatibility), of any JSON value."""
    return {f"x_{name}": draw(_rare()["extra_value"]) for name in draw(_rare()["extra_names"])}


def _insert(value: str, char: str, at: int, limit: int | None = None) -> str:
    if limit is not None:
        value = value[: limit - 1]
    at = at % (len(value) + 1)
    return value[:at] + char + value[at:]


def _put_odd(body: dict[str, Any], r: _Reader, char: str) -> None:
    """Put ``char`` into one text field (chosen by a byte; the first, ``status``, for a zero byte)."""
    rec = body["data"][0]
    field = r.pick(_TEXT_FIELDS)
    at = r.byte()
    if field == "sender":
        name = next(k for k in ("from", "sms_from", "viber_from") if k in rec)
        if name != "viber_from" and char in _LINE_TERMINATORS:
            char = "\x1b"
        rec[name] = _insert(rec[name], char, at, 11 if name != "viber_from" else None)
    elif field in ("api_job_id", "client_job_id"):
        body[field] = _insert(str(body.get(field) or "job-1"), char, at, 255 if field == "client_job_id" else None)
    else:
        rec[field] = _insert(str(rec.get(field) or "reference1"), char, at)


def _put_hostile(body: dict[str, Any], r: _Reader) -> None:
    """Hostile text in one of the fields that receivers put into SQL, HTML or commands, within its length rules."""
    rec = body["data"][0]
    text = str(r.pick(aspects.HOSTILE))
    field = r.pick(("client_message_id", "client_job_id", "viber_from", "message_id", "api_job_id", "sender"))
    if field in ("api_job_id", "message_id"):  # appended: the id stays unique
        target = body if field == "api_job_id" else rec
        target[field] = f"{target[field]}{text}"
    elif field == "client_job_id":
        body[field] = text
    elif field == "sender":
        name = next(k for k in ("from", "sms_from", "viber_from") if k in rec)
        rec[name] = text if name == "viber_from" else text[:11]  # an alphanumeric sender: 1-11 characters
    else:
        rec[field] = text


def _adversarial(body: dict[str, Any], r: _Reader, draw: Draw) -> None:
    """Make ``body`` adversarial in one way the schema allows: a control or other odd character, a boundary
    timestamp, text of no documented shape, a very long string, or hostile text (SQL, HTML, shell, format strings)."""
    rec = body["data"][0]
    kind = r.below(5)
    if kind == 4:
        _put_hostile(body, r)
        return
    if kind == 0:
        _put_odd(body, r, r.pick(_ODD))
    elif kind == 1:
        names = (("timestamp",), ("micro_timestamp",), ("timestamp", "micro_timestamp"))[r.below(3)]
        for name in names:
            value = draw(_rare()["timestamp"]) if r.rare(30) else r.pick(_BOUNDARIES)
            rec[name] = value if not aspects.is_realistic_timestamp(value) else 2**63 - 1
    elif kind == 2:
        field = r.pick(("status", "type", "message_id", "api_job_id", "client_message_id", "viber_from"))
        text = draw(_rare()["any_text"])
        if field == "api_job_id":
            body[field] = f"{body[field]}{text}"  # keeps it unique
        elif field == "message_id":
            rec[field] = f"{text}{rec[field]}"
        else:
            rec[field] = text
    else:
        size = 300 + r.number(2) % 4000
        field = r.pick(("viber_from", "client_message_id", "api_job_id", "message_id"))
        if field == "api_job_id":
            body[field] = f"{body[field]}-{'x' * size}"
        else:
            rec[field] = f"{rec.get(field, '')}{r.pick(_ALNUM) * size}"
    if not aspects.adversarial_values(body):  # the drawn text happened to be realistic
        rec["status"] = _insert(rec["status"], "\x7f", 0)


@st.composite
def _record_strategy(draw: Draw) -> dict[str, Any]:
    return _record(draw, _DEFAULT_IDS)


@st.composite
def _callback(draw: Draw, max_records: int, aspect: str, ids: Ids) -> dict[str, Any]:
    rare = _rare()
    r = _Reader(draw(rare["top_bytes"]))
    body: dict[str, Any] = {"api_job_id": ids.job_id()}
    presence = r.byte() % 100
    if presence >= 30:  # absent in 30 % of callbacks, as when the send request had no job_id
        body["client_job_id"] = (
            "" if presence >= 85 else draw(rare["client_job_id"]) if presence >= 70 else (f"job-{r.number(2)}")
        )
    count = 2 + r.below(max(1, max_records - 1)) if r.rare(25) else 1
    body["data"] = [_record(draw, ids) for _ in range(count)]
    first = body["data"][0]
    if aspect == "unknown_status":
        first["status"] = r.word(contract.KNOWN_STATUSES)
    elif aspect == "unknown_type":
        first["type"] = r.word(contract.KNOWN_TYPES)
    elif aspect == "extra_fields":
        where = r.below(3)  # in the record, at the top level, or both
        if where != 1:
            first.update(_extras(draw))
        if where != 0:
            body.update(_extras(draw))
    elif aspect == "nul":  # PostgreSQL's text types cannot hold it
        _put_odd(body, r, "\x00")
    elif aspect == "adversarial":
        _adversarial(body, r, draw)
    return body


_DEFAULT_IDS = Ids()


def record() -> Strategy:
    """One realistic delivery report (a ``data[]`` record)."""
    return _record_strategy()


def callback(max_records: int = 5, aspect: str = "realistic", ids: Ids | None = None) -> Strategy:
    """One whole callback body: a unique api_job_id, an optional client_job_id, 1 to ``max_records`` records;
    realistic but for its ``aspect`` (one of :data:`BATCH_ASPECTS`)."""
    return _callback(max_records, aspect, ids or _DEFAULT_IDS)


def batch(size: int, ids: Ids, max_records: int = 5) -> Strategy:
    """``size`` callbacks, the one at position i exercising ``BATCH_ASPECTS[i % len(BATCH_ASPECTS)]``, sharing ids."""
    cycle = BATCH_ASPECTS
    return st.tuples(*(callback(max_records, cycle[i % len(cycle)], ids) for i in range(size))).map(list)
