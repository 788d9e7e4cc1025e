"""The README stays true to the code: requirements, options, the two commands, and what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.options import OPTIONS
from conformance.requirements import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None, "the README starts with a sh block holding the two commands"
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_readme_starts_with_two_commands() -> None:
    install, test = _commands()
    assert "pip install ." in install
    assert install.endswith("dlr-conformance")
    assert test == "bash scripts/test.sh"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == [f"exec {_commands()[1]}"]


@pytest.mark.parametrize("requirement", CATALOGUE, ids=lambda r: r.id)
def test_readme_lists_every_requirement(requirement: object) -> None:
    assert f"| {requirement.id} | {requirement.level} |" in README  # type: ignore[attr-defined]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.flags[0])
def test_readme_documents_every_option(option: object) -> None:
    assert f"`{option.flags[0]}" in README  # type: ignore[attr-defined]


def test_no_placeholder_left() -> None:
    assert not re.search(r"\b[A-Z]+_SECTION\b", README)
