"""The load's traffic plan, importable without Locust: how many users (connections) send the rate, and each
user's seed.

By default one user per :data:`PER_USER` callbacks/s, at most :data:`CAP` per generating process: a Locust process
sends at most ~2,500 callbacks/s on one core here whatever its user count, and past a few hundred users it sends
fewer (each user is a greenlet and a connection to keep fed), so more users only add the generator's own waiting
to every answer's latency (``bench/load_connections_bench.py``; the figures are in docs/how-to/load.md).

A user's campaign (:class:`~conformance.generation.campaign.Campaign`) is seeded from the run's ``--seed``, the
worker process it runs in and its number there, so that one seed sends the same traffic again -- the same
callbacks in the same order from each connection, the ids (the run's own) and the timestamps aside.
"""

from __future__ import annotations

import math
import random

__all__ = ["CAP", "PER_USER", "user_seed", "users"]

PER_USER = 20.0  # callbacks per second one user sends by default: the user count is rate / PER_USER ...
CAP = 200  # ... but at most this many per generating process (measured: the module docstring)


def users(rate: float, connections: int = 0, processes: int = 1) -> int:
    """The users (connections) that send ``rate`` callbacks/s: ``connections``, else one per :data:`PER_USER`, at
    most :data:`CAP` for each of the ``processes`` that send."""
    if connections:
        return int(connections)
    return max(1, min(math.ceil(float(rate) / PER_USER), CAP * max(1, processes)))


def user_seed(seed: int, worker: int, user: int) -> int:
    """The seed of one user's campaign, from the run's seed, the worker process's index and the user's number."""
    return random.Random(f"{seed}/{worker}/{user}").getrandbits(64)  # noqa: S311 - traffic's shape, not a secret
