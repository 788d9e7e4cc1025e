"""Latency quantiles in constant memory: exact for small runs, a log-bucket histogram past that.

Up to :data:`EXACT` values are kept as they are, so a default run's figures are exact. Past that every value goes
into buckets :data:`STEP` wide on a log scale (bucket ``k`` holds values in ``[e^(k*s), e^((k+1)*s))``), and a
quantile is the midpoint of the bucket holding its rank: within 0.5% of the true value, in a few hundred buckets
whatever the number of values. The count and the maximum stay exact.
"""

from __future__ import annotations

import math
import statistics

__all__ = ["EXACT", "STEP", "Quantiles"]

EXACT = 10_000
STEP = math.log(1.01)  # buckets 1% wide
_FLOOR = 1e-6  # seconds: anything faster is counted as 1 µs


class Quantiles:
    """Streaming quantiles of non-negative values (not thread-safe: the caller locks)."""

    def __init__(self) -> None:
        self.count = 0
        self.max = 0.0
        self._values: list[float] = []
        self._buckets: dict[int, int] = {}

    @property
    def estimated(self) -> bool:
        """True once the figures come from the histogram rather than from every value."""
        return bool(self._buckets)

    def add(self, value: float) -> None:
        """Count one value."""
        self.count += 1
        self.max = max(self.max, value)
        if not self._buckets and len(self._values) < EXACT:
            self._values.append(value)
            return
        for kept in self._values:
            self._bucket(kept)
        self._values = []
        self._bucket(value)

    def _bucket(self, value: float) -> None:
        key = math.floor(math.log(max(value, _FLOOR)) / STEP)
        self._buckets[key] = self._buckets.get(key, 0) + 1

    def quantile(self, share: float) -> float | None:
        """The value at ``share`` (0..1) of the sorted values: nearest rank; the median interpolates when exact."""
        if not self.count:
            return None
        rank = min(self.count - 1, round(share * (self.count - 1)))
        if not self._buckets:
            values = sorted(self._values)
            return statistics.median(values) if share == 0.5 else values[rank]
        seen = 0
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if seen > rank:
                return min(self.max, math.exp((key + 0.5) * STEP))
        return self.max
