"""Generated callbacks: ``--examples`` payloads drawn from the contract, each answered 200 (DLR-10)."""

from __future__ import annotations

import json

import pytest

from conformance.cases import documented_example, fresh
from conformance.generated import run_generated
from conformance.run import Target


@pytest.mark.requirement("DLR-10", requests=lambda o: o.examples)
def test_generated_payloads_answered_200(target: Target) -> None:
    """Every payload drawn from the schema with Hypothesis is answered 200; a failure is shrunk to a minimal one."""
    run = target.run
    if run.sender.unreachable is not None:
        # a valid body: "{}" would also fail the contract check and blame dlr-conformance for the target's state
        target.deliver(fresh(documented_example(), run.run_id), label="generated payload")
        target.verify()
    stats = run_generated(target, examples=run.options.examples, seed=run.seed)
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status_counts.items()))
    target.notes.append(f"Generated {stats.generated} payloads (seed {run.seed}); answers {counts or 'none'}.")
    if stats.shrunk is not None:
        minimal = json.dumps(stats.shrunk.exchange.payload(), ensure_ascii=False)
        how = (
            "shrunk"
            if stats.replayed and not stats.budget_spent
            else "partly shrunk (shrink budget spent)"
            if stats.replayed
            else "not shrunk: the seeded replay did not reach it again"
        )
        target.notes.append(f"Minimal failing payload ({how}, {stats.shrink_requests} shrink requests): {minimal}")
        stats.shrunk.exchange.label = "minimal failing payload" + (" (shrunk)" if stats.replayed else "")
        target.record(stats.shrunk)
        if target.failed_outcomes and target.failed_outcomes[-1][1] is stats.shrunk:  # show the minimal one first
            target.failed_outcomes.insert(0, target.failed_outcomes.pop())
    target.verify()
