"""The rate limit as pure logic: at most R requests in any one-second window, counted from when each completed."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.delivery.ratelimit import RateLimiter


def test_a_full_window_waits_until_a_slot_is_a_window_old() -> None:
    limiter = RateLimiter(5)
    slots = [limiter.acquire() for _ in range(5)]
    assert all(slot is not None for slot in slots)  # the first five at once
    released = time.monotonic()
    for slot in slots:
        assert slot is not None
        limiter.release(slot)
    assert limiter.acquire() is not None  # the sixth: only once the first five are a window old
    assert time.monotonic() - released >= 1.0


def test_a_request_never_sent_gives_its_slot_back_at_once() -> None:
    limiter = RateLimiter(1)
    first = limiter.acquire()
    assert first is not None
    limiter.release(first, sent=False)
    started = time.monotonic()
    assert limiter.acquire() is not None
    assert time.monotonic() - started < 0.5


def test_a_slot_in_flight_is_held_and_a_waiter_can_be_called_off() -> None:
    limiter = RateLimiter(1)
    held = limiter.acquire()
    assert held is not None  # in flight: never released
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert limiter.acquire(cancelled=stop.is_set) is None
    assert 0.25 <= time.monotonic() - started < 1.0  # noticed within the 0.1 s re-check


def test_a_rate_below_one_spaces_the_requests() -> None:
    limiter = RateLimiter(0.5)
    assert (limiter.capacity, limiter.window) == (1, 2.0 + RateLimiter.MARGIN)


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RateLimiter(rate)
