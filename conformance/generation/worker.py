"""The generator worker: a process that draws callbacks with Hypothesis and, on request, replays and shrinks.

It is the half of the generated check that runs on the second core (``generated.py`` is the other half, in the
main process). Importing this module costs nothing but the standard library, so the CLI can start the worker
before anything else; Hypothesis, the strategies and the contract are imported inside the worker process.

Protocol over one duplex pipe (worker -> main unless marked):

* main -> worker ``("tag", run_id)`` -- first: the run id, in every generated ``api_job_id`` (``dlrc-<run id>-...``);
* ``("batch", [(body, contract_problems, requirement), ...])`` -- a test case's callbacks, JSON-encoded and
  validated, each with the requirement it exercises (``aspects.requirement_of``);
* ``("done",)`` -- the search drew every batch;
* main -> worker ``("shrink", failing_body)`` -- stop searching; replay the same seeded test until the failing
  body comes round, then shrink its position;
* ``("deliver", body)`` / main -> worker ``bool`` -- one shrink step: deliver this, did it fail?
* ``("shrunk", body or None)`` -- the minimal failing body (None: the replay never reached the failing one).

Why the replay runs here: Hypothesis generates deterministically from its seed while every earlier test case
passes, but it also biases some draws toward constants it harvests from the *local* modules loaded in the
process, so only a process with the same modules loaded (this one) draws the same batches again.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["BATCH", "Generator", "discard_prestarted", "generator", "hypothesis_test", "prestart"]

BATCH = 25
# Test cases per Hypothesis run. Hypothesis keeps a tree of every choice a run made (to avoid repeating itself),
# ~2 KB per callback here: a million callbacks in one run would need over 2 GB. So the search is cut into runs of
# CHUNK test cases (5,000 callbacks), each with its own seed (the first one's is the run's seed, so small runs
# draw exactly as before); memory stays flat at any --examples.
CHUNK = 200
WINDOW = 256  # recent batches whose origin the worker remembers (more than the pipe and the delivery window hold)
DEFAULT_TAG = "00000000"
_PRELOAD = ["conformance.generation.worker", "hypothesis", "conformance.generation.payloads"]


def _encode(payload: Any) -> bytes:
    from conformance.contract.schema import encode

    return encode(payload)


class _Stop(BaseException):
    """Raised inside the search to end it: the main process asked for a shrink."""


class _Falsified(Exception):
    def __init__(self, body: bytes) -> None:
        super().__init__("the target did not answer 200")
        self.body = body


def hypothesis_test(
    examples: int, seed: int, batch: int, on_batch: Callable[[list[dict[str, Any]]], None], ids: Any = None
) -> Any:
    """The Hypothesis test the worker runs: each test case hands one batch of callbacks to ``on_batch``.

    The ids come from counters (``ids``, a ``aspects.Ids``; default: a fresh one with the tag ``00000000``): a
    replay given counters at the same start draws the same ids again.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    from conformance.generation import aspects, payloads

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
    @given(payloads.batch(batch, ids if ids is not None else aspects.Ids(DEFAULT_TAG)))
    def case(bodies: list[dict[str, Any]]) -> None:
        on_batch(bodies)

    return case


def chunks(examples: int, seed: int, batch: int, chunk: int = CHUNK) -> Iterator[tuple[int, int]]:
    """The Hypothesis runs of a search: (seed, callbacks) of each, in order."""
    per_run, left, index = chunk * batch, examples, 0
    while left > 0:
        count = min(per_run, left)
        yield (seed if index == 0 else seed + index * 2**32), count
        left -= count
        index += 1


def _work(examples: int, seed: int, batch: int, conn: Any, chunk: int = CHUNK, window: int = WINDOW) -> None:
    """Search, sending batches; then, if asked, replay and shrink with the main process delivering."""
    devnull = os.open(os.devnull, os.O_WRONLY)  # Hypothesis's own notes must not reach the run's output
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _use_cache_home()
    from conformance.contract import schema as contract
    from conformance.generation import aspects, payloads

    payloads.callback()  # build the strategies while the main process starts up
    _encode({})  # and import what encoding needs, before the first draw
    try:
        command = conn.recv()
    except (EOFError, OSError, KeyboardInterrupt):
        return
    tag = command[1] if command[0] == "tag" else DEFAULT_TAG
    ids = aspects.Ids(tag)  # one for the whole search: ids never repeat, across Hypothesis runs too
    sent = 0
    limit = 0
    # which run (its seed, size and first ids) each recent body came from, for the replay: a failing body the main
    # process reports was sent a few batches ago at most (the pipe and the delivery window hold no more); one it
    # may shrink later (the first SHOULD failure, when the search goes on) it asks to keep at once
    Origin = tuple[int, int, tuple[int, int]]
    origin: dict[bytes, Origin] = {}
    kept: dict[bytes, Origin] = {}
    recent: deque[list[bytes]] = deque()
    current: Origin = (seed, examples, ids.position())
    commands: list[Any] = []

    def listen() -> None:
        """Take the main process's messages: keep what it asks to keep; anything else ends the search."""
        while conn.poll():
            message = conn.recv()
            if message[0] == "keep":
                kept[message[1]] = origin.get(message[1], current)
            else:
                commands.append(message)
                raise _Stop

    def search(bodies: list[dict[str, Any]]) -> None:
        nonlocal sent
        listen()
        bodies = bodies[: limit - sent]
        sent += len(bodies)
        if bodies:
            encoded = [_encode(b) for b in bodies]
            recent.append(encoded)
            origin.update(dict.fromkeys(encoded, current))
            if len(recent) > window:
                for body in recent.popleft():
                    origin.pop(body, None)
            problems = ["; ".join(str(x) for x in contract.errors(b)[:3]) for b in bodies]
            requirements = [aspects.requirement_of(b) for b in bodies]
            conn.send(("batch", list(zip(encoded, problems, requirements, strict=True))))

    try:
        try:
            for run_seed, count in chunks(examples, seed, batch, chunk):
                current, limit = (run_seed, count, ids.position()), sent + count
                hypothesis_test(count, run_seed, batch, search, ids)()
            conn.send(("done",))
        except _Stop:
            pass
        command = commands.pop() if commands else conn.recv()
        while command[0] == "keep":
            kept[command[1]] = origin.get(command[1], current)
            command = conn.recv()
        if command[0] == "shrink":
            run_seed, count, start = kept.get(command[1]) or origin.get(command[1], current)
            _replay_and_shrink(count, run_seed, batch, command[1], conn, aspects.Ids(tag, *start))
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


def _replay_and_shrink(examples: int, seed: int, batch: int, failing: bytes, conn: Any, ids: Any) -> None:
    position: list[int] = []

    def replay(bodies: list[dict[str, Any]]) -> None:
        if not position:
            encoded = [_encode(b) for b in bodies]
            if failing not in encoded:
                return  # an earlier batch: it passed in the search, do not deliver it again
            position.append(encoded.index(failing))
        raw = _encode(bodies[position[0]])
        conn.send(("deliver", raw))
        if conn.recv():
            raise _Falsified(raw)

    try:
        hypothesis_test(examples, seed, batch, replay, ids)()
    except _Falsified as falsified:
        conn.send(("shrunk", falsified.body))
        return
    conn.send(("shrunk", None))  # the replay never reached the failing payload


def _context() -> Any:
    """How to start the worker: a fork of this process while it has a single thread and has not imported Hypothesis,
    on Linux (the CLI starts the worker before anything else: the fork skips a second interpreter's start-up and
    imports, ~0.15 s, and the resource tracker process spawn needs); else a fresh interpreter (spawn), which inherits
    no threads, no locks and no Hypothesis settings profile a conftest loaded (as in a pytest session)."""
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1 and "hypothesis" not in sys.modules:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


class Generator:
    """A generator worker process and the main process's end of its pipe."""

    def __init__(self, examples: int, seed: int, batch: int) -> None:
        ctx = _context()
        self.key = (examples, seed, batch)
        self.conn, child = ctx.Pipe(duplex=True)
        self._worker = ctx.Process(
            target=_work, args=(examples, seed, batch, child), daemon=True, name="dlr-conformance-generator"
        )
        self._worker.start()
        child.close()
        self.tagged = ""

    def tag(self, run_id: str) -> None:
        """Give the worker the run id (once; it waits for it before drawing)."""
        if not self.tagged:
            self.tagged = run_id
            self.send(("tag", run_id))

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


_prestarted: list[Generator] = []


def prestart(examples: int, seed: int, batch: int = BATCH, tag: str = "") -> None:
    """Start generating before the suite runs, to overlap the worker's start-up with pytest's.

    The CLI calls this before pytest starts, the plugin when it configures a run (once per parameters). A worker
    blocks once its pipe is full, so an unused one costs little; :func:`discard_prestarted` stops it.
    """
    key = (examples, seed, max(1, min(batch, examples)))
    found = [generator for generator in _prestarted if generator.key == key]
    if not found:
        found.append(Generator(*key))
        _prestarted.append(found[0])
    if tag:
        found[0].tag(tag)


def discard_prestarted() -> None:
    """Stop the workers started ahead that no check took (the generated check was not selected)."""
    while _prestarted:
        _prestarted.pop().stop()


def generator(examples: int, seed: int, batch: int = BATCH) -> Generator:
    """The prestarted worker for these parameters, or a new one."""
    for generator in _prestarted:
        if generator.key == (examples, seed, batch):
            _prestarted.remove(generator)
            return generator
    return Generator(examples, seed, batch)
