"""The README stays a landing page true to the code: the two commands, what CI runs, the requirement table; the
docs name things by what they do."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from conformance.requirements import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None, "the README starts with a sh block holding the two commands"
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_readme_starts_with_two_commands() -> None:
    install, test = _commands()
    assert "pip install ." in install
    assert install.endswith("dlr-conformance")
    assert test == "bash scripts/test.sh"
    assert README.index("```sh") < README.index("\n## "), "the two commands come first, before any section"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == [f"exec {_commands()[1]}"]


def test_readme_is_a_landing_page() -> None:
    assert len(README.splitlines()) <= 150


def test_readme_table_is_the_catalogue() -> None:
    """Every requirement, in the catalogue's order, with its level and title as the catalogue has them."""
    rows = re.findall(r"^\| (DLR-\d+) \| (MUST|SHOULD) \| (.+?) \|$", README, re.M)
    assert rows == [(r.id, r.level, r.title) for r in CATALOGUE]


def test_docs_name_no_issue_numbers() -> None:
    """An issue number means nothing to a reader outside the project: say what the thing does instead."""
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for path in DOCS
        for match in re.finditer(r"\bissues? #?\d+", path.read_text(encoding="utf-8"), re.I)
    ]
    assert not found


def test_no_placeholder_left() -> None:
    for path in DOCS:
        assert not re.search(r"\b[A-Z]+_SECTION\b|\bTODO\b|\bXXX\b", path.read_text(encoding="utf-8")), path


def test_architecture_table_is_the_layering_test() -> None:
    """ARCHITECTURE.md's "may import" column says what tests/test_architecture.py enforces, package by package."""
    spec = importlib.util.spec_from_file_location("layering", ROOT / "tests" / "test_architecture.py")
    assert spec is not None
    assert spec.loader is not None
    layering = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layering)
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)/` \| .*? \| (.*?) \|$", text, re.M))
    assert set(rows) == set(layering.ALLOWED)
    for package, allowed in layering.ALLOWED.items():
        assert set(re.findall(r"`(\w+)`", rows[package])) == allowed, package
