"""The load's traffic plan, importable without Locust: how many users (connections) send the rate, and each
user's seed.

A user's campaign (:class:`~conformance.generation.campaign.Campaign`) is seeded from the run's ``--seed``, the
worker process it runs in and its number there, so that one seed sends the same traffic again -- the same
callbacks in the same order from each connection, the ids (the run's own) and the timestamps aside.
"""

from __future__ import annotations

import math
import random

__all__ = ["PER_USER", "user_seed", "users"]

PER_USER = 20.0  # callbacks per second one user sends by default: the user count is rate / PER_USER


def users(rate: float, connections: int = 0) -> int:
    """The users (connections) that send ``rate`` callbacks/s: ``connections``, else one per :data:`PER_USER`."""
    if connections:
        return int(connections)
    return max(1, math.ceil(float(rate) / PER_USER))


def user_seed(seed: int, worker: int, user: int) -> int:
    """The seed of one user's campaign, from the run's seed, the worker process's index and the user's number."""
    return random.Random(f"{seed}/{worker}/{user}").getrandbits(64)  # noqa: S311 - traffic's shape, not a secret
