"""The schema's patterns mean what ECMA 262 says they mean (JSON Schema's regex dialect), not what Python's do.

Each expectation below is ECMA 262's (ES2023 §22.2: ``.`` matches any code unit but a LineTerminator -- LF, CR,
LS U+2028, PS U+2029; ``$`` without the ``m`` flag is the end of the input; ``\\d`` is ``[0-9]``, ``\\w`` is
``[A-Za-z0-9_]``; ``\\s`` is WhiteSpace and LineTerminator, U+FEFF included; ``[]`` matches nothing, ``[^]``
anything). Python's ``re`` says the opposite for every case marked ``python differs``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from conformance.contract import schema as contract
from conformance.generation.cases import documented_example

SENDER = "^(?:[0-9]{1,15}|.{1,11})$"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (SENDER, "ab\rc", False),  # python differs: its . matches CR
        (SENDER, "ab\u2028c", False),  # python differs: LINE SEPARATOR
        (SENDER, "ab\u2029c", False),  # python differs: PARAGRAPH SEPARATOR
        (SENDER, "ab\nc", False),
        (SENDER, "ab\x00c", True),  # NUL is not a line terminator
        (SENDER, "ab\x85c", True),  # nor is NEL
        (SENDER, "ab\tc\x0b\x0c", True),  # nor tab, vertical tab, form feed
        ("^[1-9][0-9]{6,14}$", "35699123456\n", False),  # python differs: its $ matches before a final newline
        ("^\\d+$", "\u0663\u0664", False),  # python differs: Arabic-Indic digits are \d in Unicode mode
        ("^\\d+$", "0123456789", True),
        ("^\\D$", "\u0663", True),  # python differs
        ("^\\w+$", "Zürich", False),  # python differs: ü is \w in Unicode mode
        ("^\\w+$", "Fortytwo_42", True),
        ("^\\s$", "\ufeff", True),  # python differs: BOM is ECMA white space
        ("^\\s$", "\x1c", False),  # python differs: FILE SEPARATOR is Python white space only
        ("^\\s$", "\u3000", True),
        ("^[^\\s]$", "\u00a0", False),
        ("^[\\d]$", "\u0663", False),  # python differs: the same inside a class
        ("^a[]b", "ab", False),  # an empty class matches nothing (python reads ']' as a literal)
        ("^a[^]b$", "a\nb", True),  # a negated empty class matches anything
        ("^[]a]$", "]", False),
        ("^x\\.y$", "x.y", True),  # an escaped dot stays a dot
        ("^x\\.y$", "xzy", False),
        ("^[.]$", "\r", False),  # a dot inside a class is a dot
        ("^[.]$", ".", True),
    ],
)
def test_pattern_has_its_ecma_meaning(pattern: str, text: str, matches: bool) -> None:
    assert bool(contract._ecma_pattern(pattern).search(text)) is matches


def test_the_cases_marked_python_differs_really_differ() -> None:
    """The table above is not vacuous: Python's own reading gives the other answer."""
    assert re.search(SENDER, "ab\rc")
    assert re.search(SENDER, "ab\u2028c")
    assert re.search("^[1-9][0-9]{6,14}$", "35699123456\n")
    assert re.search("^\\d+$", "\u0663\u0664")
    assert re.search("^\\w+$", "Zürich")
    assert not re.search("^\\s$", "\ufeff")


def _with_sender(**fields: str) -> dict[str, Any]:
    body = copy.deepcopy(documented_example())
    record = body["data"][0]
    record.pop("sms_from")
    record.pop("viber_from")
    record.update(fields)
    return body


@pytest.mark.parametrize("sender", ["ab\rc", "ab\u2028c", "Forty\ntwo", "x\u2029"])
@pytest.mark.parametrize("field", ["from", "sms_from"])
def test_a_sender_with_a_line_terminator_is_invalid(field: str, sender: str) -> None:
    """``"from": "ab\\rc"`` is not "1 to 11 characters" in ECMA's reading of ``.``, so the payload is invalid."""
    body = _with_sender(**{field: sender})
    assert not contract.is_valid(body)
    (error,) = contract.errors(body)
    assert error.path == f"data[0].{field}"


@pytest.mark.parametrize("sender", ["ab\x00c", "ab\tc", "Zürich ✓", "ab\x85c", "\x1b[0m"])
def test_a_sender_with_other_characters_is_valid(sender: str) -> None:
    assert contract.errors(_with_sender(**{"from": sender})) == []


def test_viber_from_has_no_pattern_and_takes_line_terminators() -> None:
    assert contract.is_valid(_with_sender(viber_from="line\r\nbreak\u2028"))
