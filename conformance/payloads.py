"""Generated callback payloads: Hypothesis strategies derived from the contract.

How generation works, and why (see also ARCHITECTURE.md):

* ``hypothesis_jsonschema.from_schema`` on the whole callback schema is correct but slow (~15-20 payloads/s):
  it canonicalises and filters the record's ``anyOf`` and the regex patterns on every draw. So it is used where
  it is right -- on the *leaf* schemas (a string with a length rule, a bounded integer, the unknown-enum-value
  schema), each resolved from ``schema/callback.schema.json`` so the contract stays the single source -- and the
  object structure is composed here with ``st.fixed_dictionaries``.
* Each leaf mixes a realistic strategy (digit-string numbers drawn as integers instead of ``from_regex``, known
  statuses and types, plausible timestamps) with the schema's own strategy, which reaches unicode text, unknown
  enum values and boundaries. The realistic branch carries most of the weight, because a receiver that fails on
  a realistic payload is the finding that matters most.
* Unknown extra fields are drawn for both levels, since the schema allows them.
* Every payload drawn is validated against the schema by the suite (check ``payload_matches_contract``);
  ``tests/test_payloads.py`` proves it for thousands of draws.
"""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conformance import contract

__all__ = ["callback", "record"]

Strategy = st.SearchStrategy[Any]

_JSON_SCALARS: Strategy = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False),
)
_JSON: Strategy = st.one_of(_JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=3))
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_LOWER = "abcdefghijklmnopqrstuvwxyz_"
# Line terminators are excluded from sender text: a regex '.' does not match them in every validator.
_LINE_SAFE = st.characters(exclude_characters="\n\r\u2028\u2029", exclude_categories=["Cs"])


def _leaf(*path: str) -> Strategy:
    """hypothesis-jsonschema's strategy for one leaf of the contract, $refs resolved."""
    schema = contract.load_schema()
    node: dict[str, Any] = schema
    for key in path:
        node = node[key]
    node = dict(node)
    ref = node.pop("$ref", None)
    if ref is not None:
        node = {**_resolve(ref), **node}
    for key in ("description", "$comment", "examples", "anyOf"):
        node.pop(key, None)
    return from_schema(node)


def _resolve(ref: str) -> dict[str, Any]:
    node: dict[str, Any] = contract.load_schema()
    for key in ref.removeprefix("#/").split("/"):
        node = node[key]
    return dict(node)


def _weighted(common: Strategy, rare: Strategy, weight: int = 4) -> Strategy:
    """``common`` about ``weight`` times as often as ``rare`` (one_of picks its branches uniformly)."""
    return st.one_of(*([common] * weight), rare)


def _digits(min_len: int, max_len: int, *, leading_zero: bool = False) -> Strategy:
    """A digit string of the given length range, drawn as integers (much faster than from_regex)."""

    def of_length(n: int) -> Strategy:
        low = 0 if leading_zero else 10 ** (n - 1)
        return st.integers(low, 10**n - 1).map(lambda v: str(v).zfill(n))

    return st.one_of(*(of_length(n) for n in range(min_len, max_len + 1)))


_PROPS = ("definitions", "callback_info", "properties")


@functools.cache
def _fields() -> dict[str, Strategy]:
    known_status = st.sampled_from(contract.KNOWN_STATUSES)
    known_type = st.sampled_from(contract.KNOWN_TYPES)
    unknown = st.one_of(st.text(_UPPER, min_size=3, max_size=12), _leaf("definitions", "unknown_enum_value"))
    alnum_sender = st.text(_LINE_SAFE, min_size=1, max_size=11).filter(lambda s: not (s.isdigit() and len(s) > 15))
    sender = st.one_of(st.sampled_from(["Fortytwo", "InfoSMS", "Bank", "12345"]), _digits(1, 15), alnum_sender)
    seconds = st.integers(1_000_000_000, 2_000_000_000)
    millis = st.integers(1_000_000_000_000, 2_000_000_000_000)
    boundaries = st.sampled_from([0, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 1])
    return {
        "type": _weighted(st.one_of(st.just("SMS"), known_type), unknown),
        "message_id": _weighted(_digits(20, 20), _leaf(*_PROPS, "message_id")),
        "status": _weighted(known_status, unknown),
        "timestamp": _weighted(st.one_of(seconds, millis), st.one_of(boundaries, _leaf(*_PROPS, "timestamp"))),
        "micro_timestamp": _weighted(
            st.one_of(millis, millis.map(lambda v: v * 1000)), st.one_of(boundaries, _leaf(*_PROPS, "micro_timestamp"))
        ),
        "to": _digits(7, 15).filter(lambda s: s[0] != "0"),
        "error_code": _weighted(st.sampled_from([0, 0, 0, 943, 1, 8]), _leaf(*_PROPS, "error_code")),
        "from": sender,
        "sms_from": st.one_of(st.just(""), sender),
        "viber_from": st.one_of(st.just(""), st.sampled_from(["Fortytwo"]), _leaf(*_PROPS, "viber_from")),
        "client_message_id": _weighted(
            st.integers(1, 10**6).map(lambda v: f"reference{v}"), _leaf(*_PROPS, "client_message_id")
        ),
        "api_job_id": _weighted(st.uuids().map(str), _leaf("properties", "api_job_id")),
        "client_job_id": _weighted(
            st.one_of(st.just(""), st.integers(1, 10**6).map(lambda v: f"job-{v}")),
            st.one_of(_leaf("properties", "client_job_id"), st.just("J" * 255)),
        ),
    }


def _extras(known: frozenset[str]) -> Strategy:
    """Unknown extra fields (forward compatibility): mostly none, sometimes a few of any JSON value."""
    name = st.text(_LOWER, min_size=2, max_size=14).map(lambda k: "x" + k).filter(lambda k: k not in known)
    return _weighted(st.just({}), st.dictionaries(name, _JSON, min_size=1, max_size=3), weight=3)


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in reversed(parts):  # earlier parts win: extras never override a contract field
        out.update(part)
    return out


@functools.cache
def record() -> Strategy:
    """One delivery report (a ``data[]`` record)."""
    f = _fields()
    required = ("type", "message_id", "status", "timestamp", "micro_timestamp", "to", "error_code")
    core = st.fixed_dictionaries({k: f[k] for k in required}, optional={"client_message_id": f["client_message_id"]})
    sender = st.one_of(
        st.fixed_dictionaries({"from": f["from"]}),
        st.fixed_dictionaries({"sms_from": f["sms_from"], "viber_from": f["viber_from"]}),
        st.fixed_dictionaries({"sms_from": f["sms_from"]}),
        st.fixed_dictionaries({"viber_from": f["viber_from"]}),
    )
    known = frozenset(contract.load_schema()["definitions"]["callback_info"]["properties"])
    return st.builds(_merge, core, sender, _extras(known))


@functools.cache
def callback(max_records: int = 3) -> Strategy:
    """One whole callback body: api_job_id, an optional client_job_id, 1 to ``max_records`` records."""
    f = _fields()
    core = st.fixed_dictionaries(
        {"api_job_id": f["api_job_id"], "data": st.lists(record(), min_size=1, max_size=max_records)},
        optional={"client_job_id": f["client_job_id"]},
    )
    known = frozenset(contract.load_schema()["properties"])
    return st.builds(_merge, core, _extras(known))
