"""Capacity: a burst of concurrent callbacks and a sustained stream; the HTTPS certificate."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conformance.checks.answers import Outcome
from conformance.engine.coverage import BURST
from conformance.engine.coverage import STREAM as STREAM_CELL
from conformance.engine.run import Driver
from conformance.generation.cases import base_record, callback, fresh

STREAM = 200  # callbacks in the sustained stream: past the per-minute quotas receivers put on webhooks
STREAM_CONCURRENCY = 4
_THROTTLED = {429: "429 Too Many Requests", 503: "503 Service Unavailable"}


def _bodies(dlr_driver: Driver, n: int, prefix: str) -> list[dict[str, object]]:
    # plain callbacks, distinct message ids: only capacity differs from what the contract cases already check
    return [fresh(callback(base_record(message_id=f"{prefix}{i:019d}")), dlr_driver.run.run_id) for i in range(n)]


def _note_throttling(dlr_driver: Driver, outcomes: Sequence[Outcome], what: str) -> None:
    counts = {status: sum(o.exchange.status == status for o in outcomes) for status in _THROTTLED}
    throttled = " and ".join(f"{n} were answered {_THROTTLED[s]}" for s, n in counts.items() if n)
    if throttled:
        dlr_driver.notes.append(
            f"Throttled: of the {len(outcomes)} {what}, {throttled}. The platform does not slow "
            "down for a throttled callback: it retries it 3 times, then the delivery report is lost."
        )


def _not_when_rate_capped(dlr_driver: Driver) -> None:
    """Capacity is the receiver's answer to unthrottled traffic: under ``--max-rps`` it cannot be judged."""
    if dlr_driver.run.options.max_rps:
        pytest.skip(
            f"not checked (rate-capped at {dlr_driver.run.options.max_rps:g}/s): capacity needs unthrottled traffic"
        )


@pytest.mark.requirement("DLR-11", requests=lambda o: 0 if o.max_rps else o.concurrency, load=True)
def test_burst_answered_200_within_deadline(dlr_driver: Driver) -> None:
    """``--concurrency`` distinct callbacks at once: all answered 200 within the deadline; slow ones warn."""
    _not_when_rate_capped(dlr_driver)
    n = dlr_driver.run.options.concurrency
    outcomes = dlr_driver.deliver_many(
        _bodies(dlr_driver, n, "2"),
        concurrency=n,
        labels=[f"burst request {i + 1} of {n}" for i in range(n)],
        scenario=BURST,
    )
    _note_throttling(dlr_driver, outcomes, "callbacks sent at once")
    dlr_driver.verify()


@pytest.mark.requirement("DLR-11", requests=lambda o: 0 if o.max_rps else STREAM, load=True)
def test_sustained_stream_answered_200(dlr_driver: Driver) -> None:
    """A stream of distinct callbacks, a few in flight at a time: every one answered 200 (no rate limit)."""
    _not_when_rate_capped(dlr_driver)
    outcomes = dlr_driver.deliver_many(
        _bodies(dlr_driver, STREAM, "3"),
        concurrency=STREAM_CONCURRENCY,
        labels=[f"stream request {i + 1} of {STREAM}" for i in range(STREAM)],
        scenario=STREAM_CELL,
    )
    _note_throttling(dlr_driver, outcomes, f"callbacks sent {STREAM_CONCURRENCY} at a time")
    dlr_driver.verify()


@pytest.mark.requirement("DLR-12", requests=lambda o: int((o.target_url or "").lower().startswith("https:")))
def test_https_certificate_validates(dlr_driver: Driver) -> None:
    """Over HTTPS the receiver's certificate validates against the trusted CAs."""
    if not dlr_driver.run.context.https:
        pytest.skip("not applicable: the target URL is http://, there is no certificate to validate")
    dlr_driver.deliver(fresh(callback(), dlr_driver.run.run_id), label="certificate check")
    dlr_driver.verify()
