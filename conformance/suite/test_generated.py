"""Generated callbacks: ``--examples`` payloads drawn from the contract, each answered 200.

A failure is recorded under the requirement its payload's aspect names in the catalogue (an unknown status, an
unknown extra field, an adversarial value...; see ``conformance/generation/aspects.py``), so it weighs at that
requirement's level.
"""

from __future__ import annotations

import json

import pytest

from conformance.engine.generated import GeneratedStats, run_generated
from conformance.engine.run import Driver
from conformance.generation.cases import documented_example, fresh


@pytest.mark.requirement("DLR-10", requests=lambda o: o.examples)
def test_generated_payloads_answered_200(dlr_driver: Driver) -> None:
    """Every payload drawn from the schema with Hypothesis is answered 200; a failure is shrunk to a minimal one."""
    run = dlr_driver.run
    if run.sender.unreachable is not None:
        # a valid body: "{}" would also fail the contract check and blame dlr-conformance for the target's state
        dlr_driver.deliver(fresh(documented_example(), run.run_id), label="generated payload")
        dlr_driver.verify()
    stats = run_generated(dlr_driver, examples=run.options.examples, seed=run.seed)
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status_counts.items()))
    dlr_driver.notes.append(f"Generated {stats.generated} payloads (seed {run.seed}); answers {counts or 'none'}.")
    if stats.by_requirement:
        pinned = ", ".join(f"{req}: {n}" for req, n in sorted(stats.by_requirement.items()))
        dlr_driver.notes.append(
            f"Failed deliveries by the requirement their payload exercises: {pinned}"
            + (
                f" ({stats.twins} realistic twins delivered to tell an aspect's fault from the rest's)"
                if stats.twins
                else ""
            )
            + "."
        )
    if stats.shrunk is not None:
        _report_minimal(dlr_driver, stats)
    dlr_driver.verify()


def _report_minimal(dlr_driver: Driver, stats: GeneratedStats) -> None:
    """Name the minimal failing payload, and show it first among the failed deliveries."""
    shrunk = stats.shrunk
    assert shrunk is not None
    if not stats.replayed:
        how = "not shrunk: the seeded replay did not reach it again"
    elif stats.shrink_requests == 0:
        how = "shrunk: the first failing payload was already minimal"
    else:
        how = f"shrunk in {stats.shrink_requests} requests" + (
            ", then the shrink budget ran out" if stats.budget_spent else ""
        )
    minimal = json.dumps(shrunk.exchange.payload(), ensure_ascii=False)
    dlr_driver.notes.append(f"Minimal failing payload ({how}; {stats.requirement}): {minimal}")
    dlr_driver.put_first(shrunk, "minimal failing payload" + (" (shrunk)" if stats.replayed else ""), stats.requirement)
