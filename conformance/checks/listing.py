"""The requirement catalogue with each requirement's checks, as ``--list-requirements`` prints it."""

from __future__ import annotations

from typing import Any

from conformance.checks import internals as _internals  # noqa: F401 - registers its check
from conformance.checks.answers import CHECKS, delivery_answered
from conformance.checks.stored import SCENARIO_CHECKS

# FIXME split module state


def describe(fn: Any) -> str:
    """The first line of a check's docstring."""
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def catalogue() -> str:
    """The requirement catalogue with each requirement's source and checks, as ``--list-requirements`` prints it."""
    from conformance.requirements import CATALOGUE

    one, two = CATALOGUE[3].id, CATALOGUE[4].id  # examples of the syntax
    lines = []
    for req in CATALOGUE:
        lines.append(f"{req.id}  {req.level:6}  {req.title}")
        lines.append(f"        source: {req.source}")
        lines.extend(f"        check {name}: {describe(CHECKS[name])}" for name in req.checks)
        lines.extend(
            f"        scenario check {name}: {describe(SCENARIO_CHECKS[name])}" for name in req.scenario_checks
        )
    lines.append(f"\nEvery delivery, whatever its requirement: check delivery_answered: {describe(delivery_answered)}")
    lines.append(
        f"Select by requirement with --requirement {one} (repeatable) or -k {one} (any -k expression: "
        f"-k '{one} or {two}'); by a check named above with -k (-k newest_status_wins runs the tests it judges); "
        "by test name with -k: the property-based test's name contains 'generated', "
        "each contract case's name is its case id (e.g. -k documented-example)."
    )
    return "\n".join(lines)
