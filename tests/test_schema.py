"""The contract: the schema itself, its example payloads, each rule and each documented contradiction."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conformance.contract import schema as contract
from conformance.contract.schema import ContractError, MalformedJSON
from conformance.generation import payloads

EXAMPLES = Path(__file__).resolve().parent.parent / "schema" / "examples"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))

# The examples that are not well-formed JSON, with where the parser stops.
MALFORMED = {"documented-example-original.json": (2, 53)}

# Each invalid example breaks exactly one rule: the one its name says, found at this path with this reason.
EXPECTED_ERROR = {
    "api-job-id-empty.json": ("api_job_id", "must not be empty"),
    "client-job-id-null.json": ("client_job_id", "must be a string (got null)"),
    "client-job-id-too-long.json": ("client_job_id", "must be at most 255 characters long (got 256 characters)"),
    "client-message-id-empty.json": ("data[0].client_message_id", "must not be empty"),
    "data-empty.json": ("data", "must contain at least 1 record (got 0)"),
    "data-missing.json": ("$", "the required field 'data' is missing"),
    "data-not-an-array.json": ("data", "must be an array (got {"),
    "error-code-as-string.json": ("data[0].error_code", 'must be an integer (got "943")'),
    "error-code-missing.json": ("data[0]", "the required field 'error_code' is missing"),
    "error-code-out-of-short-range.json": ("data[0].error_code", "must fit in a short, -32768 to 32767 (got 32768)"),
    "from-alphanumeric-too-long.json": ("data[0].from", '1 to 11 characters (got "Fortytwo1234")'),
    "from-empty.json": ("data[0].from", 'must be 1 to 15 digits, or 1 to 11 characters (got "")'),
    "from-numeric-too-long.json": ("data[0].from", '1 to 15 digits, or 1 to 11 characters (got "4477009001234567")'),
    "message-id-as-number.json": ("data[0].message_id", "must be a string (got 14466445287300014003)"),
    "message-id-empty.json": ("data[0].message_id", "must not be empty"),
    "micro-timestamp-missing.json": ("data[0]", "the required field 'micro_timestamp' is missing"),
    "micro-timestamp-past-long.json": ("data[0].micro_timestamp", "(got 9223372036854775808)"),
    "missing-api-job-id.json": ("$", "the required field 'api_job_id' is missing"),
    "payload-not-an-object.json": ("$", "the payload must be a JSON object {...} (got [])"),
    "record-not-an-object.json": ("data[0]", 'must be an object (got "14466445287300014003")'),
    "sender-missing.json": ("data[0]", "the record has no sender: add 'from', 'sms_from' or 'viber_from'"),
    "sms-from-too-long.json": ("data[0].sms_from", 'must be empty, or 1 to 15 digits, or 1 to 11 characters (got "'),
    "status-empty.json": ("data[0].status", "must not be empty"),
    "status-missing.json": ("data[0]", "the required field 'status' is missing"),
    "timestamp-as-string.json": ("data[0].timestamp", 'must be an integer (got "1443165174145")'),
    "timestamp-negative.json": ("data[0].timestamp", "must be 0 to 9223372036854775807, a non-negative long (got -1)"),
    "to-masked-digits.json": ("data[0].to", 'must be 7 to 15 digits, the first not 0 (got "35699XXXXXX")'),
    "to-starts-with-zero.json": ("data[0].to", '(got "035699123456")'),
    "to-too-long.json": ("data[0].to", '(got "1234567890123456")'),
    "to-too-short.json": ("data[0].to", '(got "123456")'),
    "to-with-plus-sign.json": ("data[0].to", '(got "+35699123456")'),
    "type-empty.json": ("data[0].type", "must not be empty"),
    "type-missing.json": ("data[0]", "the required field 'type' is missing"),
    "type-not-a-string.json": ("data[0].type", "must be a string (got 5)"),
    "viber-from-null.json": ("data[0].viber_from", "must be a string (got null)"),
}

RECORD: dict[str, Any] = {
    "type": "SMS",
    "message_id": "14466445287300014003",
    "status": "DELIVRD",
    "timestamp": 1443165174145,
    "micro_timestamp": 1443165174145000,
    "to": "35699123456",
    "sms_from": "Fortytwo",
    "viber_from": "",
    "client_message_id": "reference1",
    "error_code": 943,
}
DROP = object()  # as a value in payload(): remove the field


def payload(top: dict[str, Any] | None = None, **record: Any) -> dict[str, Any]:
    """The documented example (fixed), with top-level fields and fields of its one record changed or dropped."""
    rec = copy.deepcopy(RECORD)
    body: dict[str, Any] = {"api_job_id": "0c6ccf37-dd15-49ff-a12f-ffad8f2655a6", "client_job_id": "", "data": [rec]}
    for target, changes in ((rec, record), (body, top or {})):
        for key, value in changes.items():
            if value is DROP:
                target.pop(key)
            else:
                target[key] = value
    return body


def load(path: Path) -> Any:
    """The payload in an example file."""
    return contract.parse(path.read_text(encoding="utf-8"))


# --- the schema itself ---------------------------------------------------------------------------------------


def test_schema_passes_the_draft_07_meta_schema() -> None:
    schema = contract.load_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_known_values_come_from_the_schema() -> None:
    assert {"ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"} <= set(
        contract.KNOWN_STATUSES
    )
    assert "SEEN" in contract.KNOWN_STATUSES
    assert set(contract.KNOWN_TYPES) == {"SMS", "VIBER", "IM_VIBER", "INTERNAL"}
    assert contract.schema_version().startswith("draft-07 sha256:")


def test_python_dialect_keeps_the_ecma_meaning() -> None:
    sender = contract.python_pattern("^(?:[0-9]{1,15}|.{1,11})$")
    assert re.search(sender, "Fortytwo")
    assert not re.search(sender, "ab\rc")
    assert not re.search(contract.python_pattern("^[1-9][0-9]{6,14}$"), "1234567\n")


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(from_schema(contract.python_dialect(contract.load_schema())))
def test_from_schema_draws_valid_payloads(drawn: Any) -> None:
    # Also guards the hypothesis pin: with hypothesis >= 6.170.10, hypothesis-jsonschema 0.23.1 fails here with
    # AttributeError: 'many' object has no attribute 'more'.
    jsonschema.Draft7Validator(contract.load_schema()).validate(drawn)
    assert contract.errors(drawn) == []
    assert contract.is_valid(drawn)


# --- the compiled contract: its quick yes agrees with jsonschema --------------------------------------------

# values that break one rule or another, or only look as if they did
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.0, 1.5, 32767, 32768, -32769, 2**63 - 1, 2**63, "", "x", "0", "1234567",
    "035699123456", "35699123456", "35699123456\n", "ab\rc", "Forty\u2028two", "\u0661" * 7,
    "+35699123456", "A" * 11, "A" * 12, "9" * 15, "9" * 16, "DELIVRD", "SMS", [], [{}], {}, {"x": 1},
]  # fmt: skip
_SCHEMA = contract.load_schema()
FIELDS = [
    *sorted({*_SCHEMA["properties"], *_SCHEMA["definitions"]["callback_info"]["properties"]}),
    "not_in_the_contract",
]


def _broken(body: dict[str, Any], data: st.DataObject) -> Any:
    """``body`` with one to three fields dropped or set to odd values, at the top or in a record."""
    body = copy.deepcopy(body)
    for _ in range(data.draw(st.integers(1, 3))):
        records = body.get("data") if isinstance(body.get("data"), list) else []
        holder = data.draw(st.sampled_from([body, *[r for r in records if isinstance(r, dict)]]))
        key = data.draw(st.sampled_from(FIELDS))
        if data.draw(st.booleans()):
            holder.pop(key, None)
        else:
            holder[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
    return body


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(payloads.callback(), st.data())
def test_the_compiled_contract_agrees_with_jsonschema(body: dict[str, Any], data: st.DataObject) -> None:
    """The generator worker asks the compiled contract (fastjsonschema) of every callback, and jsonschema only when
    it says no: a yes where jsonschema says no would send a payload that breaks the contract unnoticed."""
    broken = _broken(body, data)
    assert contract._passes(broken) == contract._validator().is_valid(broken), broken
    assert contract._passes(body)
    assert contract._validator().is_valid(body)


@pytest.mark.parametrize("value", [v for v in ODD_VALUES if isinstance(v, str)], ids=repr)
@pytest.mark.parametrize("field", ["to", "from", "sms_from", "viber_from", "status", "type", "message_id"])
def test_the_compiled_contract_agrees_on_every_odd_string(field: str, value: str) -> None:
    """Field by field, where the patterns' ECMA meaning differs from Python's (line terminators, ``$``, digits)."""
    body = payload(**{field: value})
    assert contract._passes(body) == contract._validator().is_valid(body)


@pytest.mark.parametrize("path", VALID + [p for p in INVALID if p.name not in MALFORMED], ids=lambda p: p.name)
def test_the_compiled_contract_agrees_on_every_example(path: Path) -> None:
    body = load(path)
    assert contract._passes(body) == contract._validator().is_valid(body) == (path in VALID)


# --- the example payloads ------------------------------------------------------------------------------------


def test_there_are_enough_examples_named_for_what_they_show() -> None:
    assert len(VALID) >= 15
    assert len(INVALID) >= 20
    for path in VALID + INVALID:
        assert path.stem == path.stem.lower()
        assert " " not in path.stem
        assert "_" not in path.stem


def test_every_invalid_example_has_its_expected_reason() -> None:
    names = {p.name for p in INVALID}
    assert names == set(EXPECTED_ERROR) | set(MALFORMED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_example_is_valid(path: Path) -> None:
    body = load(path)
    assert contract.errors(body) == []
    assert contract.is_valid(body)
    jsonschema.Draft7Validator(contract.load_schema()).validate(body)


@pytest.mark.parametrize("path", [p for p in INVALID if p.name not in MALFORMED], ids=lambda p: p.name)
def test_invalid_example_breaks_exactly_one_rule(path: Path) -> None:
    body = load(path)
    found = contract.errors(body)
    expected_path, expected_reason = EXPECTED_ERROR[path.name]
    assert len(found) == 1, found
    assert found[0].path == expected_path
    assert expected_reason in found[0].message
    assert not contract.is_valid(body)
    assert not jsonschema.Draft7Validator(contract.load_schema()).is_valid(body)


@pytest.mark.parametrize("path", [p for p in INVALID if p.name in MALFORMED], ids=lambda p: p.name)
def test_malformed_example_is_not_well_formed_json(path: Path) -> None:
    with pytest.raises(MalformedJSON) as caught:
        load(path)
    assert (caught.value.line, caught.value.column) == MALFORMED[path.name]
    assert f"line {caught.value.line}, column {caught.value.column}" in str(caught.value)


def test_documented_example_is_the_original_with_its_quote_fixed_and_digits_unmasked() -> None:
    original = (EXAMPLES / "invalid" / "documented-example-original.json").read_text(encoding="utf-8")
    assert '"0c6ccf37-dd15-49ff-a12f-ffad8f2655a6"",' in original
    fixed = original.replace('2655a6"",', '2655a6",').replace('"35699XXXXXX"', '"35699123456"')
    assert contract.parse(fixed) == load(EXAMPLES / "valid" / "documented-example.json")


# --- each contradiction of the documentation: every variant is valid -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(payload(), id="client_job_id-empty"),
        pytest.param(payload({"client_job_id": DROP}), id="client_job_id-absent"),
        pytest.param(payload(sms_from=DROP, viber_from=DROP, **{"from": "Fortytwo"}), id="from-only"),
        pytest.param(payload(viber_from=DROP), id="sms_from-only"),
        pytest.param(payload(sms_from=DROP), id="viber_from-empty-only"),
        pytest.param(payload(sms_from="", viber_from="Fortytwo"), id="sms_from-empty"),
        pytest.param(payload(viber_from="a Viber sender longer than eleven"), id="viber_from-long"),
        pytest.param(payload(timestamp=1443165174145, micro_timestamp=1443165174145000), id="timestamps-ms-and-us"),
        pytest.param(payload(timestamp=2**32, micro_timestamp=2**32 * 1000), id="timestamps-past-32-bits"),
        pytest.param(payload(timestamp=1443165174, micro_timestamp=1443165174145), id="timestamps-s-and-ms"),
        pytest.param(payload(timestamp=2**63 - 1, micro_timestamp=0), id="timestamps-long-bounds"),
        pytest.param(payload(status="CLICKED"), id="unknown-status"),
        pytest.param(payload(type="WHATSAPP"), id="unknown-type"),
        pytest.param(payload(type="IM_VIBER", status="SEEN"), id="viber-seen"),
        pytest.param(payload({"extra": {"nested": [1]}}), id="extra-field-top-level"),
        pytest.param(payload(extra=None, price={"amount": "0.05"}), id="extra-field-in-record"),
        pytest.param(payload(status="DELIVRD", error_code=943), id="non-zero-error-code-on-DELIVRD"),
        pytest.param(payload(error_code=-32768), id="error-code-short-minimum"),
        pytest.param(payload(client_message_id=DROP), id="client_message_id-absent"),
        pytest.param(payload(to="1234567"), id="to-7-digits"),
        pytest.param(payload(to="123456789012345"), id="to-15-digits"),
        pytest.param(payload(sms_from="447700900123456"), id="sender-15-digits"),
        pytest.param(payload(sms_from="Fortytwo123"), id="sender-11-characters"),
        pytest.param(payload({"data": [RECORD] * 3}), id="batch-of-three"),
    ],
)
def test_documented_variant_is_valid(body: dict[str, Any]) -> None:
    assert contract.errors(body) == []
    assert contract.is_valid(body)


# --- each rule: its violation is one error at the right path, in plain English --------------------------------


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        pytest.param(payload({"api_job_id": DROP}), "$", "the required field 'api_job_id' is missing", id="api_job_id"),
        pytest.param(payload({"api_job_id": 42}), "api_job_id", "must be a string (got 42)", id="api_job_id-type"),
        pytest.param(payload({"client_job_id": "j" * 256}), "client_job_id", "at most 255", id="client_job_id"),
        pytest.param(payload({"data": DROP}), "$", "the required field 'data' is missing", id="data"),
        pytest.param(payload({"data": []}), "data", "must contain at least 1 record", id="data-empty"),
        pytest.param(payload({"data": [None]}), "data[0]", "must be an object (got null)", id="record-type"),
        *[
            pytest.param(payload(**{name: DROP}), "data[0]", f"the required field {name!r} is missing", id=name)
            for name in ("type", "message_id", "status", "timestamp", "micro_timestamp", "to", "error_code")
        ],
        pytest.param(payload(sms_from=DROP, viber_from=DROP), "data[0]", "has no sender", id="sender"),
        pytest.param(payload(type=""), "data[0].type", "must not be empty", id="type-empty"),
        pytest.param(payload(type=5), "data[0].type", "must be a string (got 5)", id="type-number"),
        pytest.param(payload(message_id=""), "data[0].message_id", "must not be empty", id="message_id-empty"),
        pytest.param(payload(status=""), "data[0].status", "must not be empty", id="status-empty"),
        pytest.param(payload(status=None), "data[0].status", "must be a string (got null)", id="status-null"),
        pytest.param(payload(timestamp=1.5), "data[0].timestamp", "must be an integer (got 1.5)", id="ts-fraction"),
        pytest.param(payload(timestamp=True), "data[0].timestamp", "must be an integer (got true)", id="ts-bool"),
        pytest.param(payload(timestamp=-1), "data[0].timestamp", "(got -1)", id="timestamp-negative"),
        pytest.param(payload(micro_timestamp=2**63), "data[0].micro_timestamp", "long", id="micro_timestamp-long"),
        pytest.param(payload(to="0123"), "data[0].to", 'the first not 0 (got "0123")', id="to-zero"),
        pytest.param(payload(to="123456"), "data[0].to", "7 to 15 digits", id="to-6-digits"),
        pytest.param(payload(to="1234567890123456"), "data[0].to", "7 to 15 digits", id="to-16-digits"),
        pytest.param(payload(to="35699XXXXXX"), "data[0].to", "7 to 15 digits", id="to-masked"),
        pytest.param(payload(to="35699123456\n"), "data[0].to", "7 to 15 digits", id="to-trailing-newline"),
        pytest.param(payload(to=35699123456), "data[0].to", "must be a string", id="to-number"),
        pytest.param(payload(**{"from": ""}), "data[0].from", "1 to 11 characters", id="from-empty"),
        pytest.param(payload(**{"from": "Fortytwo1234"}), "data[0].from", "1 to 11 characters", id="from-12-chars"),
        pytest.param(payload(**{"from": "1234567890123456"}), "data[0].from", "1 to 15 digits", id="from-16-digits"),
        pytest.param(payload(sms_from="FortytwoTelecom"), "data[0].sms_from", "must be empty, or", id="sms_from"),
        pytest.param(payload(viber_from=0), "data[0].viber_from", "must be a string (got 0)", id="viber_from"),
        pytest.param(payload(client_message_id=""), "data[0].client_message_id", "must not be empty", id="cmid-empty"),
        pytest.param(payload(error_code="0"), "data[0].error_code", 'must be an integer (got "0")', id="error-str"),
        pytest.param(payload(error_code=32768), "data[0].error_code", "-32768 to 32767", id="error_code-high"),
        pytest.param(payload(error_code=-32769), "data[0].error_code", "-32768 to 32767", id="error_code-low"),
    ],
)
def test_rule_violation_is_one_plain_error(body: dict[str, Any], path: str, reason: str) -> None:
    found = contract.errors(body)
    assert len(found) == 1, found
    assert found[0].path == path
    assert reason in found[0].message
    assert not contract.is_valid(body)


@pytest.mark.parametrize("body", [[], 42, "x", None, True], ids=repr)
def test_payload_that_is_not_an_object_is_one_clear_error(body: Any) -> None:
    assert contract.errors(body) == [
        ContractError("$", f"the payload must be a JSON object {{...}} (got {json.dumps(body)})")
    ]


def test_every_error_is_reported_in_document_order() -> None:
    records = [dict(RECORD, message_id=str(i)) for i in range(12)]
    records[2]["to"] = "0"
    records[10]["to"] = "1"
    records[10]["status"] = ""
    body = payload({"data": records, "api_job_id": ""})
    assert [e.path for e in contract.errors(body)] == [
        "api_job_id",
        "data[2].to",
        "data[10].status",
        "data[10].to",
    ]


def test_long_values_are_shortened_in_messages() -> None:
    (error,) = contract.errors(payload(to="9" * 500))
    assert len(error.message) < 120
    assert error.message.endswith("…)")


def test_json_path_renders_keys_and_indexes() -> None:
    assert contract.json_path([]) == "$"
    assert contract.json_path(["data", 0, "to"]) == "data[0].to"
    assert contract.json_path(["data", 3]) == "data[3]"
    assert contract.json_path(["odd key", 1]) == '["odd key"][1]'


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param('{"a": 1,}', 1, 9, id="trailing-comma"),
        pytest.param('{\n  "a": NaN\n}', 2, 8, id="NaN"),
        pytest.param('{"s": "Infinity", "a": -Infinity}', 1, 24, id="Infinity-outside-string"),
        pytest.param("", 1, 1, id="empty"),
        pytest.param('{"a": 1} {"b": 2}', 1, 10, id="two-documents"),
    ],
)
def test_parse_reports_where_the_json_breaks(text: str, line: int, column: int) -> None:
    with pytest.raises(MalformedJSON) as caught:
        contract.parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
