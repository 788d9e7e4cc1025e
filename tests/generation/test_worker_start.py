"""How the generator worker is started: a fork only where nothing can be inherited that would change it."""

from __future__ import annotations

import sys

import pytest

from tests.support.process import run

PROBE = """
import sys, threading, time
if "thread" in sys.argv: threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
if "hypothesis" in sys.argv: import hypothesis
from conformance.generation.worker import _context
print(_context().get_start_method())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork is used on Linux only")
@pytest.mark.parametrize(
    ("state", "method"),
    [("fresh", "fork"), ("thread", "forkserver"), ("hypothesis", "forkserver")],
)
def test_the_worker_is_forked_only_from_a_quiet_process_without_hypothesis(state: str, method: str) -> None:
    """The CLI starts the worker first thing (fork: no second interpreter to start); a process with other threads,
    or with Hypothesis imported (a settings profile a conftest loaded would be inherited), gets a fork of a fresh
    interpreter that has imported Hypothesis and the strategies once (a forkserver): each run after the first costs
    a fork, not an interpreter's start-up and imports."""
    assert run([sys.executable, "-c", PROBE, state], timeout=60, check=True).stdout.strip() == method
