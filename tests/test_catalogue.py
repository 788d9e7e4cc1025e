"""The catalogue is the spine: code asks it, and requirement ids appear only in it, in the suite's markers and in
the tests."""

from __future__ import annotations

import pytest

from conformance.requirements import (
    CATALOGUE,
    by_aspect,
    by_id,
    by_key,
    ids_text,
    judged_by_load,
    needing_reader,
    run_first,
)


def test_keys_and_ids_are_unique() -> None:
    assert len({r.key for r in CATALOGUE}) == len({r.id for r in CATALOGUE}) == len(CATALOGUE)
    for requirement in CATALOGUE:
        assert by_key(requirement.key) is requirement is by_id(requirement.id)


def test_what_code_asks_of_the_catalogue() -> None:
    assert ids_text(needing_reader()) == "DLR-13..16"
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
