"""The public API: ``from conformance import NAME`` works for every exported name, and importing the package alone
stays cheap (the generator worker imports it first)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import conformance


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"
