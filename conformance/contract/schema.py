"""The contract: the callback JSON Schema in ``schema/``, loaded once, and payload validation.

Everything else in the project derives from this module: the generator draws payloads from the schema,
the suite validates every payload it sends against it, and ``dlr-conformance validate`` checks payloads
that customers captured. Errors are reported in plain English with a JSON path such as ``data[0].to``,
one error per problem: a value of the wrong type is reported once as such, not again by every keyword
that also rejects it, and an open enum (known values or any non-empty string) that fails says why.

Two places where Python would otherwise be more lenient than the contract means:

- JSON Schema patterns are ECMA 262 regular expressions. In Python ``$`` also matches before a final newline (so
  ``"35699123456\\n"`` would pass as digits only), ``.`` matches ``\\r``, ``\\u2028`` and ``\\u2029`` (so
  ``"ab\\rc"`` would pass as a sender), and ``\\d``/``\\w``/``\\s`` are Unicode-wide. The validator here gives
  them their ECMA meaning (:func:`_ecma_pattern`).
- Python's ``json`` reads ``NaN`` and ``Infinity``, which are not JSON; :func:`parse` rejects them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a payload fails the quick check (~80 ms): a generated run's main process never
    import jsonschema  # asks, its worker only when a payload fails

__all__ = [
    "KNOWN_STATUSES",
    "KNOWN_TYPES",
    "SCHEMA_FILE",
    "ContractError",
    "MalformedJSON",
    "documented_example",
    "encode",
    "errors",
    "is_valid",
    "json_path",
    "load_schema",
    "parse",
    "python_dialect",
    "python_pattern",
    "schema_dir",
    "schema_version",
]


def schema_dir() -> Path:
    """The folder holding the schema: inside the installed wheel, or ``schema/`` of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "schema"  # the wheel's copy (pyproject's force-include)
    return packaged if packaged.is_dir() else package.parent / "schema"


SCHEMA_FILE = "callback.schema.json"


@functools.cache
def load_schema() -> dict[str, Any]:
    """The callback schema as a dict (loaded once, do not mutate)."""
    schema: dict[str, Any] = json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


def encode(payload: Any) -> bytes:
    """The request body for ``payload``: compact UTF-8 JSON, non-ASCII characters kept as they are."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def documented_example() -> dict[str, Any]:
    """The platform's documented example, its JSON error fixed and the masked digits of ``to`` filled in: the one
    copy, ``schema/examples/valid/documented-example.json``, which every use reads (a fresh dict each call)."""
    path = schema_dir() / "examples" / "valid" / "documented-example.json"
    example: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return example


def schema_version() -> str:
    """A short identifier of the schema in use: its draft and a content digest."""
    digest = hashlib.sha256((schema_dir() / SCHEMA_FILE).read_bytes()).hexdigest()[:12]
    return f"draft-07 sha256:{digest}"


# ECMA 262 (without the ``u``, ``s`` and ``m`` flags, as JSON Schema uses it) where Python's ``re`` differs.
_LINE_TERMINATORS = "\\n\\r\\u2028\\u2029"
_ECMA_SPACE = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACE}
_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_ECMA_SPACE}]",
    "S": f"[^{_ECMA_SPACE}]",
}


@functools.cache
def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a schema pattern with ECMA 262's meaning where Python's differs.

    ``$`` is the end of the text (Python's also matches before a final newline); ``.`` matches anything but the
    four line terminators (Python's ``.`` matches ``\\r``, ``\\u2028`` and ``\\u2029``); ``\\d`` and ``\\w``
    are ASCII-only and ``\\s`` is ECMA's white space set (Python's are Unicode-wide and differ).
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i + 1 : i + 2]
            if in_class and escape in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[escape])
            elif not in_class and escape in _ESCAPES:
                out.append(_ESCAPES[escape])
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            negated = pattern[i + 1 : i + 2] == "^"
            start = i + 1 + negated
            if pattern[start : start + 1] == "]":  # ECMA: [] matches nothing, [^] anything; Python reads a literal ]
                out.append(r"[\s\S]" if negated else "(?!)")
                i = start + 1
                continue
            out.append("[^" if negated else "[")
            in_class = True
            i = start
            continue
        elif char == "$":
            char = r"\Z"
        elif char == ".":
            char = f"[^{_LINE_TERMINATORS}]"
        out.append(char)
        i += 1
    return re.compile("".join(out), re.ASCII)


def python_pattern(pattern: str) -> str:
    """A schema pattern in Python's regex dialect with its ECMA 262 meaning, for generators that read patterns with
    Python's ``re`` (hypothesis-jsonschema would otherwise draw senders holding ``\\r``, which the contract refuses)."""
    return "(?a)" + _ecma_pattern(pattern).pattern


def python_dialect(node: Any) -> Any:
    """A copy of a schema with every pattern in Python's dialect (:func:`python_pattern`), for tools that read
    patterns with Python's ``re``: hypothesis-jsonschema, fastjsonschema."""
    if isinstance(node, dict):
        return {
            k: python_pattern(v) if k == "pattern" and isinstance(v, str) else python_dialect(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [python_dialect(v) for v in node]
    return node


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    import jsonschema

    if validator.is_type(instance, "string") and not _ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    """jsonschema's Draft 7 validator with the patterns' ECMA meaning: the authority, and the one that says why."""
    import jsonschema
    import jsonschema.validators

    extend: Callable[..., type[jsonschema.protocols.Validator]] = jsonschema.validators.extend  # untyped in stubs
    return extend(jsonschema.Draft7Validator, {"pattern": _pattern_keyword})(load_schema())


@functools.cache
def _compiled() -> Callable[[Any], Any]:
    """The contract compiled to Python code by fastjsonschema: a yes or no ~20 times faster than jsonschema's
    (~20 against ~400 microseconds a callback, measured), which the generator worker asks of every callback it draws.
    jsonschema stays the authority: it alone is asked why a payload fails, and whenever this says no
    (:func:`_passes`); ``tests/test_schema.py`` checks that this never says yes where jsonschema says no."""
    import fastjsonschema

    return fastjsonschema.compile(python_dialect(load_schema()), use_default=False, use_formats=False)


def _passes(payload: Any) -> bool:
    """The fast yes: True when the compiled contract accepts ``payload`` (False may still be valid: ask jsonschema)."""
    check = _compiled()
    try:
        check(payload)
    except Exception:  # its validation error, or anything it did not foresee: jsonschema decides
        return False
    return True


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


class _NotJSON(ValueError):
    """A value that Python's json reads but JSON does not allow (NaN, Infinity)."""


def _reject_constant(name: str) -> Any:
    raise _NotJSON(name)


# Skips over strings so that a token inside one is not mistaken for a bare value; the long-number branch
# finds an integer with more digits than Python converts (sys.get_int_max_str_digits()).
_BARE_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|(?P<token>-?Infinity|NaN|(?<![0-9.eE+-])-?[0-9]{'
    + str(sys.get_int_max_str_digits() + 1)
    + r",}(?![0-9.eE]))",
    re.DOTALL,
)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _locate_bare_token(text: str) -> tuple[int, int]:
    for match in _BARE_TOKEN.finditer(text):
        if match.group("token"):
            return _line_column(text, match.start())
    return 1, 1


def parse(text: str) -> Any:
    """Parse JSON text, raising :class:`MalformedJSON` with a line and column when it is not well-formed."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(exc.msg, exc.lineno, exc.colno) from None
    except _NotJSON as exc:
        line, column = _locate_bare_token(text)
        raise MalformedJSON(f"{exc} is not a JSON value; send a number or null", line, column) from None
    except ValueError:  # an integer with more digits than Python converts (sys.get_int_max_str_digits)
        line, column = _locate_bare_token(text)
        reason = f"a number with more than {sys.get_int_max_str_digits()} digits; no callback field needs over 19"
        raise MalformedJSON(reason, line, column) from None
    except RecursionError:
        raise MalformedJSON("nested too deeply to read", 1, 1) from None


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Iterable[str | int]) -> str:
    """Render a jsonschema path deque as ``data[0].to`` (``$`` for the document itself)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out or "$"


# Plain-English rules for the patterns of the schema, keyed by the pattern itself.
_PATTERN_RULES = {
    "^[1-9][0-9]{6,14}$": "must be 7 to 15 digits, the first not 0",
    "^(?:[0-9]{1,15}|.{1,11})$": "must be 1 to 15 digits, or 1 to 11 characters",
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "array": "an array",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}


def _show(value: Any) -> str:
    """The offending value as JSON, shortened when long."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:59]}…"


def _type_reason(error: jsonschema.ValidationError) -> str:
    rule: Any = error.validator_value
    if not error.absolute_path and rule == "object":
        return f"the payload must be a JSON object {{...}} (got {_show(error.instance)})"
    wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in ([rule] if isinstance(rule, str) else rule))
    return f"must be {wanted} (got {_show(error.instance)})"


def _range_reason(error: jsonschema.ValidationError) -> str:
    schema: Any = error.schema
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        if (low, high) == (-32768, 32767):
            return f"must fit in a short, -32768 to 32767 (got {_show(error.instance)})"
        if low == 0 and high == 2**63 - 1:
            return f"must be 0 to {high}, a non-negative long (got {_show(error.instance)})"
        return f"must be {low} to {high} (got {_show(error.instance)})"
    if low is not None:
        return f"must be at least {low} (got {_show(error.instance)})"
    return f"must be at most {high} (got {_show(error.instance)})"


def _any_of_reason(error: jsonschema.ValidationError) -> str:
    rule: Any = error.validator_value
    if isinstance(rule, list) and all(set(branch) == {"required"} for branch in rule):
        names = [repr(branch["required"][0]) for branch in rule]
        return f"the record has no sender: add {', '.join(names[:-1])} or {names[-1]}"
    context = error.context or []
    # A branch that only lists fixed values (known statuses, "") failed as expected for a value outside it;
    # the open branch says what is wrong.
    closed = [e for e in context if e.validator in ("enum", "const")]
    open_ = [e for e in context if e.validator not in ("enum", "const")]
    if not open_:
        return f"has a value the contract does not allow (got {_show(error.instance)})"
    from jsonschema.exceptions import best_match

    best = best_match(open_)
    reason = _reason(best) if best is not None else f"is not allowed (got {_show(error.instance)})"
    if any(e.validator == "const" and e.validator_value == "" for e in closed) and reason.startswith("must be "):
        reason = "must be empty, or " + reason.removeprefix("must be ")
    return reason


def _reason(error: jsonschema.ValidationError) -> str:
    """One plain-English sentence for one schema violation."""
    v = error.validator
    value: Any = error.instance
    rule: Any = error.validator_value
    if v == "type":
        return _type_reason(error)
    if v == "pattern":
        return f"{_PATTERN_RULES.get(str(rule), f'must match the pattern {rule!r}')} (got {_show(value)})"
    if v == "minLength":
        return "must not be empty" if rule == 1 else f"must be at least {rule} characters long (got {len(value)})"
    if v == "maxLength":
        return f"must be at most {rule} characters long (got {len(value)} characters)"
    if v == "minItems":
        records = "record" if rule == 1 else "records"
        return f"must contain at least {rule} {records} (got {len(value)})"
    if v in ("minimum", "maximum"):
        return _range_reason(error)
    if v == "anyOf":
        return _any_of_reason(error)
    if v == "enum":
        return f"must be one of {', '.join(map(_show, rule))} (got {_show(value)})"
    if v == "const":
        return f"must be {_show(rule)} (got {_show(value)})"
    return str(error.message)


def _order(payload: Any, parts: Iterable[str | int]) -> tuple[int, ...]:
    """Where a path lies in the document, so errors come in the order a reader meets them."""
    key: list[int] = []
    node = payload
    for part in parts:
        if isinstance(node, dict) and part in node:
            key.append(list(node).index(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        else:
            key.append(-1)
            node = None
    return tuple(key)


def _iter(payload: Any) -> Iterator[ContractError]:
    found = list(_validator().iter_errors(payload))
    # A value of the wrong type also fails every other keyword on it (an open enum's anyOf, say):
    # report only the type, once.
    mistyped = {tuple(e.absolute_path) for e in found if e.validator == "type"}
    found = [e for e in found if e.validator == "type" or tuple(e.absolute_path) not in mistyped]
    found.sort(key=lambda e: _order(payload, e.absolute_path))
    seen: set[ContractError] = set()
    for error in found:
        path = json_path(error.absolute_path)
        if error.validator == "required":
            # one error per missing name, the name only inside jsonschema's message: list them from the rule
            rule: Any = error.validator_value
            value: Any = error.instance
            messages = [f"the required field {name!r} is missing" for name in rule if name not in value]
        else:
            messages = [_reason(error)]
        for message in messages:
            item = ContractError(path, message)
            if item not in seen:
                seen.add(item)
                yield item


def errors(payload: Any) -> list[ContractError]:
    """Every way ``payload`` breaks the contract, in document order (empty when it is valid)."""
    if _passes(payload):
        return []
    return list(_iter(payload))


def is_valid(payload: Any) -> bool:
    """True when ``payload`` satisfies the contract."""
    return _passes(payload) or bool(_validator().is_valid(payload))
