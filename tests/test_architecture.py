"""The layering of ARCHITECTURE.md holds: no package of ``conformance`` imports a package above it.

Layers are checked per package (a short list), not per module: every module of a package may import its own
package, the packages listed for it, and the spine (``requirements``, ``options``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
SPINE = {"requirements", "options"}

# Each package's allowed project imports besides itself and the spine, lowest layer first.
ALLOWED: dict[str, set[str]] = {
    "contract": set(),
    "reference": set(),
    "delivery": {"contract"},
    "generation": {"contract"},
    "checks": {"contract", "delivery"},
    "engine": {"contract", "delivery", "generation", "checks"},
    "reporting": {"contract", "delivery", "checks", "engine"},
    "load": {"contract", "delivery", "generation", "checks", "engine", "reporting", "reference"},
    "pytest": {"contract", "delivery", "generation", "checks", "engine", "reporting", "reference"},
    "suite": {"contract", "delivery", "generation", "checks", "engine"},
    "cli": {"contract", "delivery", "generation", "checks", "engine", "reporting", "reference", "load", "pytest"},
}
# The spine may import only these (options masks secrets in the values it shows).
SPINE_ALLOWED: dict[str, set[str]] = {"requirements": set(), "options": {"requirements", "delivery"}}


def _imports(path: Path) -> set[str]:
    """The top-level names of ``conformance`` (package or spine module) that a file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("conformance"):
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names if alias.name != "__version__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("conformance."))
    return found


def test_every_package_and_module_is_placed() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert packages == set(ALLOWED), "add a new package to ALLOWED and to ARCHITECTURE.md"
    assert modules == SPINE, "the top level holds only the spine: put a new module in the package of its layer"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_downward(package: str) -> None:
    for path in sorted((PACKAGE / package).rglob("*.py")):
        upward = _imports(path) - ALLOWED[package] - SPINE - {package}
        assert not upward, f"{path.relative_to(PACKAGE.parent)} imports {sorted(upward)}, above {package}/"


@pytest.mark.parametrize("module", sorted(SPINE))
def test_spine_imports_only_below(module: str) -> None:
    assert _imports(PACKAGE / f"{module}.py") <= SPINE_ALLOWED[module]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_every_package_says_what_it_holds_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert "May import" in doc or "may import" in doc, f"conformance/{package}/__init__.py: say what it may import"


def test_reference_receiver_imports_nothing_of_the_project() -> None:
    """Customers copy the reference receiver: it must stand alone."""
    assert _imports(PACKAGE / "reference" / "receiver.py") == set()
