"""The layering of ARCHITECTURE.md holds: no module of the package imports a module above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"

# Each module's allowed project imports (its own layer and those below). The suite may use the library.
ALLOWED: dict[str, set[str]] = {
    "contract": set(),
    "requirements": set(),
    "secrets": set(),
    "options": {"secrets", "requirements"},
    "receiver": set(),
    "ratelimit": set(),
    "causes": set(),
    "transport": set(),
    "delivery": {"secrets", "causes", "ratelimit", "transport", "contract"},
    "state": set(),
    "checks": {"contract", "delivery", "requirements", "state"},
    "profiles": {"contract", "requirements"},
    "payloads": {"contract", "profiles"},
    "cases": {"contract"},
    "quantiles": set(),
    "run": {"checks", "delivery", "options", "requirements", "secrets", "contract", "quantiles", "state"},
    "worker": {"contract", "payloads", "profiles"},
    "generated": {"run", "checks", "worker", "contract", "profiles", "requirements", "state"},
    "summary": {"run", "requirements", "contract"},
    "report": {"summary", "run"},
    "progress": set(),
    "campaign": {"contract", "payloads"},
    "loadreport": set(),
    "loadstate": {"requirements", "state"},
    "locustfile": {"campaign", "delivery", "loadreport", "loadstate"},
    "load": {"options", "secrets", "receiver", "stored", "campaign", "loadreport", "loadstate", "state"},
    "console": {"summary", "requirements"},
    "validation": {"contract"},
    "export": {"contract", "options"},
    "serve": {"receiver", "contract", "options"},
    "stored": {"options", "receiver"},
    "send": {"options", "contract", "delivery", "validation", "state"},
    "plugin": {
        "options",
        "requirements",
        "run",
        "summary",
        "console",
        "report",
        "receiver",
        "checks",
        "secrets",
        "delivery",
        "contract",
        "generated",
        "worker",
        "progress",
        "state",
        "stored",
    },
    "cli": {"options", "worker", "validation", "serve", "checks", "requirements", "secrets", "contract"},
}
SUITE_ALLOWED = {"run", "cases", "generated", "checks", "contract", "requirements", "state", "options", "delivery"}


def _imports(path: Path) -> set[str]:
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


def test_every_module_is_placed() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(ALLOWED), "add new modules to ALLOWED and to ARCHITECTURE.md"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_flow_downward(module: str) -> None:
    upward = _imports(PACKAGE / f"{module}.py") - ALLOWED[module] - {module}
    assert not upward, f"conformance.{module} imports {sorted(upward)}, which sit above it (see ARCHITECTURE.md)"


@pytest.mark.parametrize("path", sorted(PACKAGE.joinpath("suite").glob("*.py")), ids=lambda p: p.name)
def test_suite_uses_only_the_library(path: Path) -> None:
    assert _imports(path) <= SUITE_ALLOWED


def test_reference_receiver_imports_nothing_of_the_project() -> None:
    """Customers copy the reference receiver: it must stand alone."""
    assert _imports(PACKAGE / "receiver.py") == set()
