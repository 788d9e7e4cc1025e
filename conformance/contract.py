"""The contract: the callback JSON Schema in ``schema/``, loaded once, and payload validation.

Everything else in the project derives from this module: the generator draws payloads from the schema,
the suite validates every payload it sends against it, and ``dlr-conformance validate`` checks payloads
that customers captured. Errors are reported in plain English with a JSON path such as ``data[0].to``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "KNOWN_STATUSES",
    "KNOWN_TYPES",
    "SCHEMA_FILE",
    "ContractError",
    "MalformedJSON",
    "errors",
    "is_valid",
    "load_schema",
    "parse",
    "schema_dir",
    "schema_version",
]


def schema_dir() -> Path:
    """The folder holding the schema: inside the installed wheel, or ``schema/`` of a source checkout."""
    packaged = Path(__file__).with_name("schema")
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schema"


SCHEMA_FILE = "callback.schema.json"


@functools.cache
def load_schema() -> dict[str, Any]:
    """The callback schema as a dict (loaded once, do not mutate)."""
    schema: dict[str, Any] = json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


def schema_version() -> str:
    """A short identifier of the schema in use: its draft and a content digest."""
    import hashlib

    digest = hashlib.sha256((schema_dir() / SCHEMA_FILE).read_bytes()).hexdigest()[:12]
    return f"draft-07 sha256:{digest}"


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_schema())


KNOWN_STATUSES: tuple[str, ...] = tuple(load_schema()["definitions"]["known_status"]["enum"])
KNOWN_TYPES: tuple[str, ...] = tuple(load_schema()["definitions"]["known_type"]["enum"])


@dataclass(frozen=True)
class ContractError:
    """One way a payload breaks the contract: where (a JSON path like ``data[0].to``) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class MalformedJSON(ValueError):
    """The text is not well-formed JSON; carries the 1-based line and column of the problem."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(f"not well-formed JSON at line {line}, column {column}: {reason}")
        self.reason = reason
        self.line = line
        self.column = column


def parse(text: str) -> Any:
    """Parse JSON text, raising :class:`MalformedJSON` with a line and column when it is not well-formed."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(exc.msg, exc.lineno, exc.colno) from None


def json_path(parts: Any) -> str:
    """Render a jsonschema path deque as ``data[0].to`` (``$`` for the document itself)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


# Plain-English rules for the patterns of the schema, keyed by the pattern itself.
_PATTERN_RULES = {
    "^[1-9][0-9]{6,14}$": "must be 7 to 15 digits, the first not 0",
    "^(?:[0-9]{1,15}|.{1,11})$": "must be 1 to 15 digits, or 1 to 11 characters",
}
_TYPE_NAMES = {"string": "a string", "integer": "an integer", "array": "an array", "object": "an object"}


def _reason(error: jsonschema.ValidationError) -> str:
    """One plain-English sentence for one schema violation."""
    v, value, rule = error.validator, error.instance, error.validator_value
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(rule)
        return f"the required field {missing!r} is missing"
    if v == "type":
        wanted = _TYPE_NAMES.get(str(rule), str(rule))
        return f"must be {wanted} (got {json.dumps(value)})"
    if v == "pattern":
        return f"{_PATTERN_RULES.get(str(rule), f'must match {rule}')} (got {json.dumps(value)})"
    if v == "minLength":
        return "must not be empty" if rule == 1 else f"must be at least {rule} characters long"
    if v == "maxLength":
        return f"must be at most {rule} characters long (got {len(value)})"
    if v == "minItems":
        return f"must contain at least {rule} record{'s' if rule != 1 else ''}"
    if v == "minimum":
        return f"must be at least {rule} (got {value})"
    if v == "maximum":
        return f"must be at most {rule} (got {value})"
    if v == "anyOf":
        if isinstance(rule, list) and all(set(branch) == {"required"} for branch in rule):
            names = " or ".join(repr(b["required"][0]) for b in rule)
            return f"the sender is missing: the record needs {names}"
        # a value that fits none of the alternatives: explain the closest one
        best = jsonschema.exceptions.best_match(error.context or [])
        return _reason(best) if best is not None else "has a value the contract does not allow"
    return error.message


def _sort_key(error: jsonschema.ValidationError) -> tuple[str, ...]:
    return tuple(str(p) for p in error.absolute_path)


def _iter(payload: Any) -> Iterator[ContractError]:
    for error in sorted(_validator().iter_errors(payload), key=_sort_key):
        yield ContractError(json_path(error.absolute_path), _reason(error))


def errors(payload: Any) -> list[ContractError]:
    """Every way ``payload`` breaks the contract, in document order (empty when it is valid)."""
    return list(_iter(payload))


def is_valid(payload: Any) -> bool:
    """True when ``payload`` satisfies the contract."""
    return bool(_validator().is_valid(payload))
