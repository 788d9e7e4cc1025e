"""The generated check: payloads drawn from the contract with Hypothesis, delivered, shrunk on failure.

Drawing a callback costs more CPU than delivering it, so generation and delivery run on different cores and do
not wait for each other:

* **search** -- a worker process runs the Hypothesis test below with the run's seed; each test case draws a batch
  of ``batch`` callbacks, which the worker validates against the contract and sends down a pipe. The main process
  delivers them over keep-alive connections with a few requests in flight and judges every answer. Batches
  amortise Hypothesis's per-test-case overhead.
* **shrink** -- when a payload fails, the main process tells the worker, which stops searching and runs the
  *same* Hypothesis test again, in the same process, with the same seed. Hypothesis generates deterministically
  from its seed while every earlier test case passes, so the replay draws the same batches (they are not
  delivered again) until the failing one comes round. From then on only the failing position of each batch
  matters: the worker asks the main process to deliver that one payload, so each shrink step costs one request
  and Hypothesis's own shrinker minimises it while the rest of the batch, irrelevant, collapses to its simplest
  form. The replay must run in the worker: Hypothesis biases some draws toward constants it harvests from the
  *local* modules loaded in the process, so a process with other modules loaded (pytest's) draws differently.
* Shrinking is bounded (requests and seconds, enforced by the main process): once the budget is spent, payloads
  not yet delivered count as passing and the smallest failure found so far is reported. If the replay does not
  reach the failing payload, the failure is reported unshrunk, and says so.

The batch size is fixed because Hypothesis needs every test case to draw the same way; the number of test cases
is ``ceil(examples / batch)`` and the last batch is cut to the quota.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.checks import ContractViolation, Outcome, run_checks
from conformance.delivery import encode
from conformance.run import Target

__all__ = ["GeneratedStats", "prestart", "run_generated"]

BATCH = 25
IN_FLIGHT = 4
SHRINK_REQUESTS = 400
SHRINK_SECONDS = 30.0


@dataclass
class GeneratedStats:
    """What the generated check did."""

    generated: int = 0
    delivered: int = 0
    shrink_requests: int = 0
    shrunk: Outcome | None = None
    first_failure: Outcome | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    budget_spent: bool = False
    replayed: bool = True


# -- the worker process ------------------------------------------------------------------------------------------


class _Stop(BaseException):
    """Raised inside the search to end it: the main process asked for a shrink."""


class _Falsified(Exception):
    def __init__(self, body: bytes) -> None:
        super().__init__("the target did not answer 200")
        self.body = body


def hypothesis_test(examples: int, seed: int, batch: int, on_batch: Callable[[list[dict[str, Any]]], None]) -> Any:
    """The Hypothesis test the worker runs: each test case hands one batch of callbacks to ``on_batch``."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from conformance import payloads

    @settings(
        max_examples=math.ceil(examples / batch),
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(st.lists(payloads.callback(), min_size=batch, max_size=batch))
    def case(bodies: list[dict[str, Any]]) -> None:
        on_batch(bodies)

    return case


def _worker(examples: int, seed: int, batch: int, conn: Any) -> None:
    """Search, sending batches; then, if asked, replay and shrink with the main process delivering."""
    devnull = os.open(os.devnull, os.O_WRONLY)  # Hypothesis's own notes must not reach the run's output
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _use_cache_home()
    from conformance import contract

    sent = 0

    def search(bodies: list[dict[str, Any]]) -> None:
        nonlocal sent
        if conn.poll():
            raise _Stop
        bodies = bodies[: examples - sent]
        sent += len(bodies)
        if bodies:
            conn.send(("batch", [(encode(b), "; ".join(str(e) for e in contract.errors(b)[:3])) for b in bodies]))

    try:
        try:
            hypothesis_test(examples, seed, batch, search)()
            conn.send(("done",))
        except _Stop:
            pass
        command = conn.recv()
        if command[0] == "shrink":
            _replay_and_shrink(examples, seed, batch, command[1], conn)
    except (BrokenPipeError, EOFError, KeyboardInterrupt, OSError):
        return
    finally:
        conn.close()


def _use_cache_home() -> None:
    """Keep Hypothesis's files (its cache of constants parsed from local source) out of the working directory."""
    from hypothesis.configuration import set_hypothesis_home_dir

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = base / "dlr-conformance" / "hypothesis"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError:
        home = Path(tempfile.mkdtemp(prefix="dlr-conformance-hypothesis-"))
    set_hypothesis_home_dir(home)


def _replay_and_shrink(examples: int, seed: int, batch: int, failing: bytes, conn: Any) -> None:
    position: list[int] = []

    def replay(bodies: list[dict[str, Any]]) -> None:
        if not position:
            encoded = [encode(b) for b in bodies]
            if failing not in encoded:
                return  # an earlier batch: it passed in the search, do not deliver it again
            position.append(encoded.index(failing))
        raw = encode(bodies[position[0]])
        conn.send(("deliver", raw))
        if conn.recv():
            raise _Falsified(raw)

    try:
        hypothesis_test(examples, seed, batch, replay)()
    except _Falsified as falsified:
        conn.send(("shrunk", falsified.body))
        return
    conn.send(("shrunk", None))  # the replay never reached the failing payload


class _Generator:
    """A generator worker process and the main process's end of its pipe."""

    def __init__(self, examples: int, seed: int, batch: int) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        self.key = (examples, seed, batch)
        self.conn, child = ctx.Pipe(duplex=True)
        self._worker = ctx.Process(
            target=_worker, args=(examples, seed, batch, child), daemon=True, name="dlr-conformance-generator"
        )
        self._worker.start()
        child.close()

    def messages(self) -> Iterator[tuple[Any, ...]]:
        """Messages from the worker until it closes its end."""
        while True:
            try:
                yield self.conn.recv()
            except (EOFError, OSError):
                return

    def send(self, message: Any) -> None:
        """A command or an answer to the worker (ignored once it has gone)."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    def stop(self) -> None:
        """Stop the worker (it may still be working) and close the pipe."""
        self.conn.close()
        if self._worker.is_alive():
            self._worker.terminate()
        self._worker.join(timeout=5)


_prestarted: list[_Generator] = []


def prestart(examples: int, seed: int, batch: int = BATCH) -> None:
    """Start generating before the suite runs (the CLI calls this before pytest starts, to overlap start-up).

    The worker blocks once its pipe is full, so an unused one costs little; it is a daemon process and ends with
    the run.
    """
    _prestarted.append(_Generator(examples, seed, max(1, min(batch, examples))))


def _generator(examples: int, seed: int, batch: int) -> _Generator:
    for generator in _prestarted:
        if generator.key == (examples, seed, batch):
            _prestarted.remove(generator)
            return generator
    return _Generator(examples, seed, batch)


# -- the main process ----------------------------------------------------------------------------------------------


def run_generated(target: Target, *, examples: int, seed: int, batch: int = BATCH) -> GeneratedStats:
    """Deliver ``examples`` generated callbacks; on failure, shrink the first failing payload to a minimal one."""
    stats = GeneratedStats()
    batch = max(1, min(batch, examples))
    generator = _generator(examples, seed, batch)
    try:
        failing = _search(target, stats, generator)
        if failing is not None:
            stats.first_failure = failing
            _shrink(target, stats, generator, failing)
    finally:
        generator.stop()
    return stats


def _search(target: Target, stats: GeneratedStats, generator: _Generator) -> Outcome | None:
    sender = target.run.sender
    window: deque[tuple[Future[Any], str]] = deque()
    failing: Outcome | None = None

    # the worker validated each payload against the contract already: judge the answer with the other checks
    checks = tuple(name for name in target.requirement.checks if name != "payload_matches_contract")

    def settle(future: Future[Any], problem: str) -> Outcome | None:
        outcome = run_checks(future.result(), target.run.context, checks)
        if problem:
            outcome.failures.append(
                ContractViolation(problem, "a payload that satisfies the contract", check="payload_matches_contract")
            )
        target.record(outcome)
        stats.delivered += 1
        ex = outcome.exchange
        key = str(ex.status) if ex.error is None else ex.error.kind
        stats.status_counts[key] = stats.status_counts.get(key, 0) + 1
        return outcome if outcome.failures else None

    pool = sender._executor(IN_FLIGHT)
    for message in generator.messages():
        if message[0] != "batch":
            break
        for body, problem in message[1]:
            stats.generated += 1
            target.run.note_job_body(body)
            window.append((pool.submit(sender.deliver, body, label="generated payload"), problem))
            while len(window) >= IN_FLIGHT and failing is None:
                failing = settle(*window.popleft())
        if failing is not None:
            break
    while window:
        outcome = settle(*window.popleft())
        failing = failing or outcome
    return failing


def _shrink(target: Target, stats: GeneratedStats, generator: _Generator, failing: Outcome) -> None:
    """Serve the worker's shrink steps: deliver each payload it asks for (within the budget) and answer."""
    known: dict[bytes, Outcome] = {failing.exchange.body: failing}
    started = time.monotonic()
    generator.send(("shrink", failing.exchange.body))
    for message in generator.messages():
        kind = message[0]
        if kind == "deliver":
            raw = message[1]
            outcome = known.get(raw)
            if outcome is None:
                spent = stats.shrink_requests >= SHRINK_REQUESTS or time.monotonic() - started > SHRINK_SECONDS
                if spent or target.run.sender.unreachable is not None:
                    stats.budget_spent = True
                    generator.send(False)  # not delivered: counts as passing, so shrinking winds down
                    continue
                stats.shrink_requests += 1
                target.run.note_job_body(raw)
                outcome = target.judge(target.run.sender.deliver(raw, label="shrinking"), keep=False)
                known[raw] = outcome
            generator.send(bool(outcome.failures))
        elif kind == "shrunk":
            if message[1] is None:
                stats.replayed = False
                stats.shrunk = failing
            else:
                stats.shrunk = known.get(message[1], failing)
            return
    stats.replayed = False
    stats.shrunk = failing
