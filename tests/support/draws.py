"""Callbacks drawn exactly as the generated check's worker draws them, in a fresh interpreter.

Hypothesis mixes constants found in the local modules a process has imported into what it draws: a seeded draw in
the test process would depend on the tests that ran in it before (which modules of the suite and of the tests were
loaded), and a threshold on what it drew would hold in one order and not in another. The worker itself draws in a
process of its own; so do these.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.support.process import run

__all__ = ["draw", "strings"]

_DRAW = """
import json, sys
from conformance.generation.aspects import Ids
from conformance.generation.worker import hypothesis_test
examples, seed, batch, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = []
hypothesis_test(examples, seed, batch, out.extend, Ids(tag))()
json.dump(out, sys.stdout)
"""


def draw(examples: int, seed: int, batch: int, tag: str) -> list[dict[str, Any]]:
    """``examples`` callbacks drawn in batches of ``batch`` from ``seed``, their ids tagged ``tag``."""
    done = run([sys.executable, "-c", _DRAW, str(examples), str(seed), str(batch), tag], timeout=300, check=True)
    drawn: list[dict[str, Any]] = json.loads(done.stdout)
    return drawn


def strings(value: Any) -> list[str]:
    """Every string in a payload, its keys included, in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []
