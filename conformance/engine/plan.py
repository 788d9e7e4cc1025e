"""The run's messages prepared before the first delivery: one preparer call for every selected scenario.

A preparer (``--prepare-cmd``) that writes to the receiver's store while deliveries are in flight slows the
receiver and skews its latency, and one call per delivery multiplies the preparer's own cost (a ``manage.py``
command costs a second a call). But every scenario builds its payloads from fixed data and ids drawn from the
run's counters (:func:`conformance.generation.cases.scenario_ids`), whatever the receiver answers. So before
anything is sent, each selected scenario is rehearsed against a :class:`Rehearsal`: a driver that keeps the
payloads instead of delivering them, answers each with a 200 nobody sent, never waits and never reads the stored
state. The counters are then put back, the real run draws the very same ids, and the preparer creates every
message in one call. What the rehearsal cannot know is prepared when it is delivered, as before: the generated
payloads (drawn by the worker; :mod:`conformance.engine.generated` prepares them in chunks before delivering
them), a scenario that fails in rehearsal, ids drawn in another order. A delivery made with ``prepare=False``
(a report for a message the customer has not stored yet) stays out of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, cast

from conformance.checks.answers import Outcome
from conformance.checks.stored import ScenarioOutcome, StateFailure
from conformance.delivery.sender import Exchange, Forged, encode
from conformance.engine.run import Driver, Run
from conformance.engine.store import Reader
from conformance.generation.cases import rewound_ids
from conformance.requirements import Requirement

__all__ = ["Rehearsal", "Scenario", "rehearse"]

Scenario = tuple[Requirement, str, Callable[[Driver], None]]
"""A selected suite test: its requirement, its name, and how to run it with a driver."""


class _Unsent:
    """The sender as a rehearsal sees it: the target reachable (a scenario sends as it would with no failure)."""

    unreachable = None


class _Stage:
    """The run as a rehearsed scenario sees it: the real one, with no pause between retries and nothing sent."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self.options = replace(run.options, retry_interval=0.0)
        self.sender = _Unsent()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._run, name)


class Rehearsal(Driver):
    """A driver that keeps what a scenario would deliver, and sends nothing."""

    rehearsing = True

    def __init__(self, run: Run, requirement: Requirement, name: str, kept: list[Any]) -> None:
        super().__init__(cast(Run, _Stage(run)), requirement, name)
        self._kept = kept

    def deliver(
        self,
        payload: Any,
        label: str = "",
        *,
        prepare: bool = True,
        forged: Forged | None = None,
        checks: Sequence[str] = (),
    ) -> Outcome:
        """Keep the payload (to be prepared; a forgery targets a message already kept) and answer it with a 200
        nobody sent."""
        if prepare and forged is None:
            self._kept.append(payload)
        return Outcome(Exchange(encode(payload), 0.0, status=200, reason="OK", label=label))

    def deliver_many(
        self,
        payloads: Sequence[Any],
        *,
        concurrency: int,
        labels: Sequence[str] = (),
        scenario: str = "",
        prepare: bool = True,
    ) -> list[Outcome]:
        """:meth:`deliver` for each payload."""
        return [self.deliver(payload, prepare=prepare) for payload in payloads]

    def deliver_blaming(self, payload: Any, label: str, twins: Sequence[tuple[str, Any]]) -> Outcome:
        """:meth:`deliver` (the twins are sent only when the payload fails, which it never does here)."""
        return self.deliver(payload, label)

    def deliver_unknown(self, payloads: Sequence[Any], labels: Sequence[str]) -> list[Outcome]:
        """Reports of messages not prepared yet: answered 200 as the others, never kept (prepared later)."""
        return [self.deliver(payload, label, prepare=False) for payload, label in zip(payloads, labels, strict=True)]

    def prepare(self, payloads: Sequence[Any]) -> None:
        """A scenario that prepares its messages itself does so when it runs, not before the first delivery."""

    def await_stored(self, reader: Reader) -> ScenarioOutcome:
        """Nothing is stored in a rehearsal: no reader is called."""
        return ScenarioOutcome()

    def read_stored(
        self, reader: Reader, payload: dict[str, Any], holds: Callable[[dict[str, Any] | None], bool]
    ) -> dict[str, Any] | None:
        """Nothing is stored in a rehearsal: no reader is called, no row."""
        return None

    def record_stored_failure(self, failure: StateFailure) -> None:
        """Nothing is judged in a rehearsal."""

    def verify(self) -> None:
        """Nothing to verify: nothing was judged."""


def rehearse(run: Run, scenarios: Iterable[Scenario]) -> int:
    """Rehearse ``scenarios`` in order, then have the preparer create every message they will report on, in one
    call; the number of messages. Raises :class:`~conformance.engine.store.StateCommandError` if the preparer
    fails (before the first delivery)."""
    if run.preparer is None:
        return 0
    kept: list[Any] = []
    with rewound_ids(run.run_id):
        for requirement, name, scenario in scenarios:
            try:
                scenario(Rehearsal(run, requirement, name, kept))
            except Exception:  # noqa: S112 - a scenario that cannot be rehearsed is prepared as it delivers
                continue
    before = len(run.prepared)
    run.prepare(kept)
    return len(run.prepared) - before
