"""The public API: ``from conformance import NAME`` works for every exported name, and importing the package alone
stays cheap (the generator worker imports it first)."""

from __future__ import annotations

import sys

import pytest

import conformance
from tests.support.process import run


@pytest.mark.parametrize("name", conformance.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(conformance, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        conformance.Nope  # noqa: B018


def test_importing_the_package_imports_nothing_heavy() -> None:
    """A fresh interpreter: the package's own import loads neither requests nor jsonschema nor Hypothesis."""
    heavy = "('requests', 'jsonschema', 'hypothesis')"
    code = f"import sys, conformance; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = run([sys.executable, "-c", code], timeout=60, check=True).stdout
    assert out.strip() == "[]"
