"""The generated check: ``--examples`` callbacks drawn from the contract with Hypothesis, delivered, shrunk.

Drawing a callback costs more CPU than delivering it, so generation and delivery run on different cores and do
not wait for each other: the worker process (:mod:`conformance.generation.worker`) runs the seeded Hypothesis test
and streams batches of validated callbacks; this module, in the main process, delivers them over keep-alive
connections with a few requests in flight and judges every answer. Batches amortise Hypothesis's per-test-case
overhead; their size is fixed because Hypothesis needs every test case to draw the same way
(``ceil(examples / batch)`` test cases, the last batch cut to the quota).

One fault, one level: every payload is realistic but for at most one aspect (:mod:`conformance.generation.aspects`),
and a failure is recorded under the requirement the catalogue gives that aspect -- an unknown extra field, an
adversarial value: SHOULD requirements -- so a receiver whose only fault is a SHOULD fault is never
``not_conformant`` through this check. The first time a payload with an aspect fails, its realistic twin (the same
payload without the aspect, under new ids) is delivered too: if the twin fails as well, the fault lies in the
rest, and both count under the twin's requirement (the realistic payloads', a MUST one; the statuses' where an
odd status became an unknown one). The search goes on past SHOULD failures, so
that a MUST fault drawn later is still found, and stops at the first MUST failure.

Then this module asks the worker to replay and shrink the most serious failure (a MUST one, else the first), and
serves its shrink steps: each is one delivery of one payload, so Hypothesis's own shrinker minimises the failing
payload while the rest of its batch, irrelevant, collapses to its simplest form. The payload keeps its position
in the batch and so its aspect: shrinking stays within the requirement. Shrinking is bounded (requests and
seconds): once the budget is spent, payloads not yet delivered count as passing and the smallest failure found so
far is reported. If the replay does not reach the failing payload again, the failure is reported unshrunk, and
says so.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.answers import ContractViolation, Outcome, run_checks
from conformance.checks.stored import NOT_JUDGED
from conformance.contract import schema as contract
from conformance.engine.run import Driver
from conformance.generation import aspects as profiles
from conformance.generation.worker import BATCH, Generator, generator
from conformance.requirements import by_id

__all__ = ["GeneratedStats", "run_generated"]

IN_FLIGHT = 4
# generated callbacks prepared in one preparer call: every one of a run of up to 5,000 (one Hypothesis run of the
# worker, whose recent batches it still knows for a replay), then one call per 5,000 more
PREPARE_CHUNK = 5000
SHRINK_REQUESTS = 400
SHRINK_SECONDS = 30.0
BASE = profiles.REQUIREMENT["realistic"]


@dataclass
class GeneratedStats:
    """What the generated check did."""

    generated: int = 0
    delivered: int = 0
    shrink_requests: int = 0
    shrunk: Outcome | None = None
    first_failure: Outcome | None = None
    requirement: str = ""  # the requirement the shrunk failure is recorded under
    status_counts: dict[str, int] = field(default_factory=dict)
    by_requirement: dict[str, int] = field(default_factory=dict)  # failed deliveries per requirement
    twins: int = 0
    budget_spent: bool = False
    replayed: bool = True


NOT_DRAWN = "the generated check stopped at its first MUST failure (to shrink it): those payloads were not drawn"


def run_generated(driver: Driver, *, examples: int, seed: int, batch: int = BATCH) -> GeneratedStats:
    """Deliver ``examples`` generated callbacks; on failure, shrink the most serious one to a minimal payload."""
    stats = GeneratedStats()
    if driver.rehearsing:  # the worker's payloads are not known ahead: they are prepared as they come
        return stats
    batch = max(1, min(batch, examples))
    gen = generator(examples, seed, batch)
    gen.tag(driver.run.run_id)
    try:
        search = _Search(driver, stats)
        failing = search.run(gen)
        if failing is not None and stats.generated < examples:  # stopped at its first MUST failure
            driver.run.note_not_sent(NOT_DRAWN, examples - stats.generated)
        if failing is not None:
            stats.first_failure, stats.requirement = failing
            _shrink(driver, stats, gen, failing[0])
            search.strip_aspect()
    finally:
        gen.stop()
    return stats


class _Search:
    """Deliver the worker's batches, judge each answer and pin each failure on a requirement."""

    def __init__(self, driver: Driver, stats: GeneratedStats) -> None:
        self.driver = driver
        self.stats = stats
        # the worker validated each payload against the contract already: judge the answer with the other checks
        self.checks = tuple(name for name in driver.requirement.checks if name != "payload_matches_contract")
        self.confirmed: set[str] = set()  # SHOULD requirements whose twin passed: the aspect is the fault
        run_id = driver.run.run_id
        self._twin_messages = (f"2{int(run_id, 16) % 10**10:010d}{n:09d}" for n in itertools.count())
        self.first_should: tuple[Outcome, str] | None = None

    def _twin_job_id(self) -> str:
        return f"{self.driver.run.run_id}{str(uuid.uuid4())[8:]}"

    def run(self, generator: Generator) -> tuple[Outcome, str] | None:
        """Deliver everything (stopping at the first MUST failure); the failure to shrink, with its requirement."""
        sender = self.driver.run.sender
        window: deque[tuple[Future[Any], str, str]] = deque()
        failing: tuple[Outcome, str] | None = None
        self.generator = generator
        pool = sender._executor(IN_FLIGHT)
        for batch in self._batches(generator):
            for body, problem, requirement in batch:
                self.stats.generated += 1
                self.driver.run.note_job_body(body)
                window.append((pool.submit(sender.deliver, body, label="generated payload"), problem, requirement))
                while len(window) >= IN_FLIGHT and failing is None:
                    failing = self._settle(*window.popleft())
            if failing is not None:
                break
        while window:
            outcome = self._settle(*window.popleft())
            failing = failing or outcome
        return failing or self.first_should

    def _batches(self, generator: Generator) -> Iterator[list[tuple[bytes, str, str]]]:
        """The worker's batches as they come; with a preparer, gathered up to :data:`PREPARE_CHUNK` callbacks and
        prepared in one call before any of them is delivered (never one preparer call per batch)."""
        run = self.driver.run
        pending: list[tuple[bytes, str, str]] = []
        for message in generator.messages():
            if message[0] != "batch":
                break
            if run.preparer is None:
                yield message[1]
                continue
            pending.extend(message[1])
            if len(pending) >= PREPARE_CHUNK:
                run.prepare_bodies([body for body, *_ in pending])
                yield pending
                pending = []
        if pending:
            run.prepare_bodies([body for body, *_ in pending])
            yield pending

    def _settle(self, future: Future[Any], problem: str, requirement: str) -> tuple[Outcome, str] | None:
        """Judge one answer; a MUST failure to stop at, or None."""
        stats = self.stats
        outcome = run_checks(future.result(), self.driver.run.context, self.checks)
        if problem:  # the tool's own fault: under the check's requirement
            requirement = BASE
            outcome.failures.append(
                ContractViolation(problem, "a payload that satisfies the contract", check="payload_matches_contract")
            )
        if outcome.failures and requirement != BASE and requirement not in self.confirmed:
            requirement = self._pin(outcome, requirement)
        self.driver.record(outcome, requirement)
        if requirement not in NOT_JUDGED:  # for the stored-state checks, if any: not the adversarial values
            self.driver.observe(outcome.exchange, case="generated payload")
        stats.delivered += 1
        ex = outcome.exchange
        key = str(ex.status) if ex.error is None else ex.error.kind
        stats.status_counts[key] = stats.status_counts.get(key, 0) + 1
        if not outcome.failures:
            return None
        stats.by_requirement[requirement] = stats.by_requirement.get(requirement, 0) + 1
        if by_id(requirement).level == "MUST":
            return outcome, requirement
        if self.first_should is None:  # shrunk at the end if no MUST failure comes: the worker must remember it
            self.first_should = (outcome, requirement)
            self.generator.send(("keep", outcome.exchange.body))
        return None

    def _pin(self, outcome: Outcome, requirement: str) -> str:
        """Deliver the failed payload's realistic twin: if it fails too, the fault is not the aspect's."""
        aspect = next(a for a, r in profiles.REQUIREMENT.items() if r == requirement)
        twin = profiles.realistic_twin(
            outcome.exchange.payload(),
            aspect,
            job_id=self._twin_job_id,
            message_id=lambda: next(self._twin_messages),
        )
        if not contract.is_valid(twin) or profiles.aspect(twin) == aspect:
            return requirement  # cannot tell: the aspect keeps it
        self.stats.twins += 1
        self.driver.run.note_job(twin)
        self.driver.run.prepare([twin])
        label = f"realistic twin of a generated payload failing {requirement} (without its {aspect.replace('_', ' ')})"
        answer = self.driver.run.sender.deliver(twin, label=label)
        twin_outcome = run_checks(answer, self.driver.run.context, self.checks)
        rest = profiles.requirement_of(twin)  # the realistic payloads', or the statuses' for an odd status made unknown
        self.driver.record(twin_outcome, rest)
        self.driver.observe(answer, twin, label)
        if twin_outcome.failures:
            self.stats.by_requirement[rest] = self.stats.by_requirement.get(rest, 0) + 1
            return rest
        self.confirmed.add(requirement)
        return requirement

    def strip_aspect(self) -> None:
        """A fault pinned on the rest of a payload, shrunk with its aspect (which it keeps): show its twin instead."""
        stats = self.stats
        if stats.shrunk is None:
            return
        payload = stats.shrunk.exchange.payload()
        which = profiles.aspect(payload)
        if profiles.REQUIREMENT[which] == stats.requirement:
            return
        twin = profiles.realistic_twin(
            payload, which, job_id=self._twin_job_id, message_id=lambda: next(self._twin_messages)
        )
        if not contract.is_valid(twin):
            return
        self.driver.run.note_job(twin)
        outcome = self.driver.judge(self.driver.run.sender.deliver(twin, label="shrinking"), keep=False)
        stats.shrink_requests += 1
        if outcome.failures:
            stats.shrunk = outcome


def _shrink(driver: Driver, stats: GeneratedStats, generator: Generator, failing: Outcome) -> None:
    """Serve the worker's shrink steps: deliver each payload it asks for (within the budget) and answer.

    Every step draws new ids, so steps are told apart by their content with the ids masked: a payload that
    differs from an earlier one only in its ids is answered from memory, not delivered again.
    """
    ids = profiles.Ids(driver.run.run_id).pattern()

    def content(raw: bytes) -> bytes:
        return ids.sub(b"#", raw)

    known: dict[bytes, Outcome] = {content(failing.exchange.body): failing}
    started = time.monotonic()
    generator.send(("shrink", failing.exchange.body))
    for message in generator.messages():
        kind = message[0]
        if kind == "deliver":
            raw = message[1]
            outcome = known.get(content(raw))
            if stats.budget_spent:
                # every step counts as passing once the budget is spent, those answered from memory too: else
                # the shrinker goes on minimising the batch's other callbacks (they never change the failing one,
                # so each such step "still fails") until the time budget, all of it CPU in the worker
                generator.send(False)
                continue
            if outcome is None:
                spent = stats.shrink_requests >= SHRINK_REQUESTS or time.monotonic() - started > SHRINK_SECONDS
                if spent or driver.run.sender.unreachable is not None:
                    stats.budget_spent = True
                    generator.send(False)  # not delivered: counts as passing, so shrinking winds down
                    continue
                stats.shrink_requests += 1
                driver.run.note_job_body(raw)
                driver.run.prepare_bodies([raw])  # prepared like every message reported on (not judged by state)
                outcome = driver.judge(driver.run.sender.deliver(raw, label="shrinking"), keep=False)
                known[content(raw)] = outcome
            generator.send(bool(outcome.failures))
        elif kind == "shrunk":
            if message[1] is None:
                stats.replayed = False
                stats.shrunk = failing
            else:
                stats.shrunk = known.get(content(message[1]), failing)
            return
    stats.replayed = False
    stats.shrunk = failing
