"""The generated check: ``--examples`` callbacks drawn from the contract with Hypothesis, delivered, shrunk.

Drawing a callback costs more CPU than delivering it, so generation and delivery run on different cores and do
not wait for each other: the worker process (``worker.py``) runs the seeded Hypothesis test and streams batches
of validated callbacks; this module, in the main process, delivers them over keep-alive connections with a few
requests in flight and judges every answer. Batches amortise Hypothesis's per-test-case overhead; their size is
fixed because Hypothesis needs every test case to draw the same way (``ceil(examples / batch)`` test cases, the
last batch cut to the quota).

On the first failure this module asks the worker to replay and shrink, and serves its shrink steps: each is one
delivery of one payload, so Hypothesis's own shrinker minimises the failing payload while the rest of its batch,
irrelevant, collapses to its simplest form. Shrinking is bounded (requests and seconds): once the budget is spent,
payloads not yet delivered count as passing and the smallest failure found so far is reported. If the replay does
not reach the failing payload again, the failure is reported unshrunk, and says so.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from conformance.checks import ContractViolation, Outcome, run_checks
from conformance.run import Target
from conformance.worker import BATCH, Generator, generator

__all__ = ["GeneratedStats", "run_generated"]

IN_FLIGHT = 4
SHRINK_REQUESTS = 400
SHRINK_SECONDS = 30.0


@dataclass
class GeneratedStats:
    """What the generated check did."""

    generated: int = 0
    delivered: int = 0
    shrink_requests: int = 0
    shrunk: Outcome | None = None
    first_failure: Outcome | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    budget_spent: bool = False
    replayed: bool = True


def run_generated(target: Target, *, examples: int, seed: int, batch: int = BATCH) -> GeneratedStats:
    """Deliver ``examples`` generated callbacks; on failure, shrink the first failing payload to a minimal one."""
    stats = GeneratedStats()
    batch = max(1, min(batch, examples))
    gen = generator(examples, seed, batch)
    try:
        failing = _search(target, stats, gen)
        if failing is not None:
            stats.first_failure = failing
            _shrink(target, stats, gen, failing)
    finally:
        gen.stop()
    return stats


def _search(target: Target, stats: GeneratedStats, generator: Generator) -> Outcome | None:
    sender = target.run.sender
    window: deque[tuple[Future[Any], str]] = deque()
    failing: Outcome | None = None

    # the worker validated each payload against the contract already: judge the answer with the other checks
    checks = tuple(name for name in target.requirement.checks if name != "payload_matches_contract")

    def settle(future: Future[Any], problem: str) -> Outcome | None:
        outcome = run_checks(future.result(), target.run.context, checks)
        if problem:
            outcome.failures.append(
                ContractViolation(problem, "a payload that satisfies the contract", check="payload_matches_contract")
            )
        target.record(outcome)
        target.observe(outcome.exchange, case="generated payload")  # for the stored-state checks, if any
        stats.delivered += 1
        ex = outcome.exchange
        key = str(ex.status) if ex.error is None else ex.error.kind
        stats.status_counts[key] = stats.status_counts.get(key, 0) + 1
        return outcome if outcome.failures else None

    pool = sender._executor(IN_FLIGHT)
    for message in generator.messages():
        if message[0] != "batch":
            break
        target.run.prepare_bodies([body for body, _ in message[1]])  # the preparer, if any, before the batch
        for body, problem in message[1]:
            stats.generated += 1
            target.run.note_job_body(body)
            window.append((pool.submit(sender.deliver, body, label="generated payload"), problem))
            while len(window) >= IN_FLIGHT and failing is None:
                failing = settle(*window.popleft())
        if failing is not None:
            break
    while window:
        outcome = settle(*window.popleft())
        failing = failing or outcome
    return failing


def _shrink(target: Target, stats: GeneratedStats, generator: Generator, failing: Outcome) -> None:
    """Serve the worker's shrink steps: deliver each payload it asks for (within the budget) and answer."""
    known: dict[bytes, Outcome] = {failing.exchange.body: failing}
    started = time.monotonic()
    generator.send(("shrink", failing.exchange.body))
    for message in generator.messages():
        kind = message[0]
        if kind == "deliver":
            raw = message[1]
            outcome = known.get(raw)
            if outcome is None:
                spent = stats.shrink_requests >= SHRINK_REQUESTS or time.monotonic() - started > SHRINK_SECONDS
                if spent or target.run.sender.unreachable is not None:
                    stats.budget_spent = True
                    generator.send(False)  # not delivered: counts as passing, so shrinking winds down
                    continue
                stats.shrink_requests += 1
                target.run.note_job_body(raw)
                target.run.prepare_bodies([raw])  # prepared like every message reported on (not judged by state)
                outcome = target.judge(target.run.sender.deliver(raw, label="shrinking"), keep=False)
                known[raw] = outcome
            generator.send(bool(outcome.failures))
        elif kind == "shrunk":
            if message[1] is None:
                stats.replayed = False
                stats.shrunk = failing
            else:
                stats.shrunk = known.get(message[1], failing)
            return
    stats.replayed = False
    stats.shrunk = failing
