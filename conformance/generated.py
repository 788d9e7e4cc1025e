"""The generated check: payloads drawn from the contract with Hypothesis, delivered, shrunk on failure.

Throughput comes from drawing payloads in fixed-size *batches*: one Hypothesis test case draws ``batch``
callbacks and they are delivered concurrently, which amortises Hypothesis's per-test-case overhead and keeps
several requests in flight. Shrinking stays Hypothesis's own: when a batch fails, the position of its first
failing payload is remembered, and from then on only that position is delivered, so each shrink step costs one
request and Hypothesis minimises the failing payload while the rest of the batch is irrelevant (and collapses
to its simplest form). The batch size is fixed because Hypothesis needs every test case to draw the same way;
the number of test cases is ``ceil(examples / batch)`` and the last batch is cut to the quota.

Shrinking is bounded (requests and seconds): once the budget is spent, payloads not yet delivered count as
passing and the smallest failure found so far is reported, so a slow target cannot stretch a run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from conformance import payloads
from conformance.checks import Outcome
from conformance.delivery import encode
from conformance.run import Target

__all__ = ["GeneratedStats", "run_generated"]

BATCH = 25
CONCURRENCY = 4
SHRINK_REQUESTS = 400
SHRINK_SECONDS = 30.0


class _Falsified(Exception):  # noqa: N818 - Hypothesis's word for a failing example
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.failures[0].title if outcome.failures else "failed")
        self.outcome = outcome


@dataclass
class GeneratedStats:
    """What the generated check did."""

    generated: int = 0
    delivered: int = 0
    failing_in_search: int = 0
    shrink_requests: int = 0
    shrunk: Outcome | None = None
    first_failure: Outcome | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    budget_spent: bool = False


def run_generated(target: Target, *, examples: int, seed: int, batch: int = BATCH,
                  concurrency: int = CONCURRENCY) -> GeneratedStats:
    """Deliver ``examples`` generated callbacks; on failure, shrink the first failing payload to a minimal one."""
    stats = GeneratedStats()
    batch = max(1, min(batch, examples))
    failing_position: list[int] = []  # set once, when the first failure is found
    known: dict[bytes, Outcome] = {}  # shrink results by request body, for a consistent replay
    shrink_started = [0.0]

    def budget_spent() -> bool:
        spent = stats.shrink_requests >= SHRINK_REQUESTS or (
            shrink_started[0] and time.monotonic() - shrink_started[0] > SHRINK_SECONDS)
        stats.budget_spent = stats.budget_spent or bool(spent)
        return bool(spent)

    @settings(
        max_examples=math.ceil(examples / batch), database=None, deadline=None, derandomize=False,
        phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False, verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck), print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(st.lists(payloads.callback(), min_size=batch, max_size=batch))
    def case(bodies: list[dict[str, Any]]) -> None:
        if failing_position:
            _shrink_step(bodies[failing_position[0]])
            return
        remaining = examples - stats.generated
        bodies = bodies[:remaining]
        stats.generated += len(bodies)
        if not bodies:
            return
        outcomes = target.deliver_many(bodies, concurrency=concurrency, labels=["generated payload"] * len(bodies))
        stats.delivered += len(outcomes)
        for outcome in outcomes:
            key = str(outcome.exchange.status) if outcome.exchange.error is None else outcome.exchange.error.kind
            stats.status_counts[key] = stats.status_counts.get(key, 0) + 1
        failed = [i for i, o in enumerate(outcomes) if o.failures]
        if failed:
            stats.failing_in_search = len(failed)
            stats.first_failure = outcomes[failed[0]]
            failing_position.append(failed[0])
            shrink_started[0] = time.monotonic()
            known[outcomes[failed[0]].exchange.body] = outcomes[failed[0]]
            raise _Falsified(outcomes[failed[0]])

    def _shrink_step(body: dict[str, Any]) -> None:
        raw = encode(body)
        outcome = known.get(raw)
        if outcome is None:
            if budget_spent() or target.run.sender.unreachable is not None:
                return  # not delivered: counts as passing, so shrinking winds down
            stats.shrink_requests += 1
            target.run.note_job(body)
            exchange = target.run.sender.deliver(body, label="shrinking")
            outcome = target.judge(exchange, keep=False)
            known[raw] = outcome
        if outcome.failures:
            raise _Falsified(outcome)

    try:
        case()
    except _Falsified as falsified:
        stats.shrunk = falsified.outcome
    return stats
