"""The catalogue is the spine: code asks it, and requirement ids appear only in it, in the suite's markers and in
the tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.requirements import (
    CATALOGUE,
    by_aspect,
    by_id,
    by_key,
    ids_text,
    judged_by_load,
    needing_reader,
    needing_status_map,
    run_first,
)

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
ID = re.compile(r"DLR-\d+")


def test_keys_and_ids_are_unique() -> None:
    assert len({r.key for r in CATALOGUE}) == len({r.id for r in CATALOGUE}) == len(CATALOGUE)
    for requirement in CATALOGUE:
        assert by_key(requirement.key) is requirement is by_id(requirement.id)


def test_what_code_asks_of_the_catalogue() -> None:
    assert ids_text(needing_reader()) == "DLR-13..16, DLR-19, DLR-22"
    assert ids_text(needing_status_map()) == "DLR-19"
    assert ids_text(judged_by_load()) == "DLR-13, DLR-14"
    assert run_first() == {"DLR-12"}
    assert {a: by_aspect(a).id for a in ("unknown_status", "realistic", "adversarial")} == {
        "unknown_status": "DLR-04",
        "realistic": "DLR-10",
        "adversarial": "DLR-17",
    }
    with pytest.raises(KeyError, match="no requirement has key 'nope'"):
        by_key("nope")


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        (["DLR-13", "DLR-14", "DLR-15", "DLR-16"], "DLR-13..16"),
        (["DLR-01", "DLR-03", "DLR-04", "DLR-05", "DLR-09"], "DLR-01, DLR-03..05, DLR-09"),
        (["DLR-14", "DLR-13"], "DLR-13, DLR-14"),
        ([], ""),
    ],
)
def test_ids_text(ids: list[str], text: str) -> None:
    assert ids_text(ids) == text


def _outside_the_spine() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative == "requirements.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not ID.search(line):
                continue
            if relative.startswith("suite/") and "mark.requirement(" in line:
                continue  # the suite's markers
            found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_requirement_ids_appear_only_in_the_catalogue_and_the_suite_markers() -> None:
    """Adding a requirement touches the catalogue, one check, one scenario: never ids scattered through the code."""
    assert _outside_the_spine() == []
