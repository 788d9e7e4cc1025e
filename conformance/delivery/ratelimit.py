"""A rate limit that holds at the target: at most R requests in any one-second window, across threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "Slot"]


class Slot:
    """One request's place in the rate limiter: held while in flight, then for a window after it completed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done: float | None = None


class RateLimiter:
    """At most ``rate`` requests in any one-second window, across threads, as seen by the target.

    A request holds its slot from the moment it may start until one window after it *completed*. The moment it
    reaches the target lies in between, so however long a request waited for a connection or on the network,
    arrivals at the target never exceed the rate either: a request is only let go once every request that could
    share a one-second window with it is counted. A rate below 1 means one request per ``1 / rate`` seconds.
    """

    MARGIN = 0.02  # seconds: clocks are read at slightly different moments on the two sides

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"a rate limit must be positive (got {rate!r})")
        self.capacity = max(1, int(rate))
        self.window = (1.0 if rate >= 1 else 1.0 / rate) + self.MARGIN
        self._slots: list[Slot] = []
        self._cond = threading.Condition()

    def acquire(self, cancelled: Callable[[], bool] | None = None) -> Slot | None:
        """Wait until one more request fits, and hold its slot; None once ``cancelled()`` is true."""
        with self._cond:
            while True:
                if cancelled is not None and cancelled():
                    return None
                now = time.monotonic()
                self._slots = [s for s in self._slots if s.done is None or now - s.done < self.window]
                if len(self._slots) < self.capacity:
                    slot = Slot()
                    self._slots.append(slot)
                    return slot
                ends = [s.done + self.window - now for s in self._slots if s.done is not None]
                # re-check at least every 0.1 s so that a cancellation is noticed
                self._cond.wait(min(max(min(ends), 0.001), 0.1) if ends else 0.1)

    def release(self, slot: Slot, *, sent: bool = True) -> None:
        """The request of ``slot`` completed (its window starts now), or was never sent (its slot is freed)."""
        with self._cond:
            if sent:
                slot.done = time.monotonic()
            elif slot in self._slots:
                self._slots.remove(slot)
            self._cond.notify_all()
