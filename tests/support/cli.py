"""The in-process CLI runner: ``dlr-conformance ARGS`` as ``conformance.cli.main(argv)`` in this process.

Every command's ``main(argv)`` returns its exit code, so a test needs no second interpreter to see it: the runner
gives the command fresh standard streams (text over bytes, as a pipe would be: not a terminal), runs it in the
folder asked, and puts back what a run may change in the process (the working folder, the environment,
``sys.path``, logging filters and levels, signal handlers). A run of the suite is ``pytest.main`` nested in this
pytest, as pytester runs it. Start a process instead (:mod:`tests.support.process`) only where the process is the
point: signals, a terminal, installation, Locust, a browser.
"""

from __future__ import annotations

import faulthandler
import io
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["LOAD_PIPE", "Result", "invoke"]

_PYTEST_SETTINGS = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")  # read by the suite's own pytest, as by this one
LIMIT = 600.0
"""Seconds after which a command that has not returned is taken for hung."""
LOAD_PIPE = [
    pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:Exception ignored in. <_io.FileIO:pytest.PytestUnraisableExceptionWarning"),
]
"""The ``pytestmark`` of tests that run ``load`` in-process: the command leaves Locust's output pipe to the garbage
collector, and in this process that is a ResourceWarning, which the warnings-as-errors setting would turn into a
failure of whichever test is running. Remove it once the command closes the pipe when Locust ends."""


@dataclass(frozen=True)
class Result:
    """What one command did: its exit code and what it printed (and, for a process, how long it took)."""

    code: int
    stdout: str
    stderr: str
    elapsed: float = 0.0

    @property
    def output(self) -> str:
        """Standard output, then standard error."""
        return self.stdout + self.stderr


def _stream(data: bytes = b"") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None, write_through=True)


@contextmanager
def _restored(cwd: Path | None, env: Mapping[str, str]) -> Iterator[None]:
    """Put back, after the command, what a command or a nested pytest run may change in this process."""
    folder = os.getcwd()
    environ = dict(os.environ)
    path, meta_path = list(sys.path), list(sys.meta_path)
    loggers = [
        logging.getLogger(),
        *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    logging_state = {logger: (logger.level, list(logger.filters), list(logger.handlers)) for logger in loggers}
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name in [name for name in os.environ if name.startswith("DLR_") or name in _PYTEST_SETTINGS]:
            del os.environ[name]  # a developer's own settings must not reach the command under test
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:], sys.meta_path[:] = path, meta_path
        for logger, (level, filters, kept) in logging_state.items():
            logger.setLevel(level)
            logger.filters[:] = filters
            logger.handlers[:] = kept
        for number, handler in handlers.items():
            if handler is not None:
                signal.signal(number, handler)


def invoke(
    *args: str | Path,
    stdin: bytes | str = b"",
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    limit: float | None = LIMIT,
) -> Result:
    """Run ``dlr-conformance ARGS`` in this process, in folder ``cwd``; ``stdin`` is what standard input holds.

    The command sees this process's environment without the tool's own ``DLR_`` variables (and pytest's
    ``PYTEST_ADDOPTS``, ``PYTEST_PLUGINS``), plus ``env``: a test sets what it tests there.

    A command that has not returned after ``limit`` seconds ends this whole process with every thread's
    traceback (``faulthandler``): a hang fails the test run (pytest-xdist replaces a lost worker) instead of
    holding it forever, as a subprocess's timeout would.
    """
    from conformance.cli import main

    out, err = _stream(), _stream()
    source = _stream(stdin.encode("utf-8") if isinstance(stdin, str) else stdin)
    saved = sys.stdin, sys.stdout, sys.stderr
    started = time.monotonic()
    with _restored(cwd, env or {}):
        sys.stdin, sys.stdout, sys.stderr = source, out, err
        if limit is not None:
            faulthandler.dump_traceback_later(limit, exit=True, file=sys.__stderr__)
        try:
            code = main([str(arg) for arg in args])
        finally:
            if limit is not None:
                faulthandler.cancel_dump_traceback_later()
            sys.stdin, sys.stdout, sys.stderr = saved
    assert isinstance(code, int), f"main() returned {code!r}, not an exit code"
    return Result(code, _text(out), _text(err), time.monotonic() - started)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "replace")
