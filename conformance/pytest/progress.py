"""Progress on long runs: one live line on a terminal, a plain line every 10 s in a log, nothing for short runs.

Drawn with pytest's own terminal writer (its output file, the one pytest writes its dots to), not with rich or
tqdm: pytest captures ``sys.stdout`` while tests run and writes its own progress to the same line, so a second
library writing to the terminal would have to fight both; going through pytest's writer adds no dependency and
lets every write of pytest's be coordinated with the line under one lock.

On a terminal the line is drawn after pytest's dots with the cursor left where pytest expects it, and erased
(``ESC [K``) before pytest writes anything, so the dots and the final summary are unchanged. Not on a terminal
(CI logs), a plain line every :data:`LOG_INTERVAL` seconds. Nothing is shown before :data:`QUIET_START` seconds
have passed, so a short run looks as before. The line never reaches the reports: it goes to the terminal only,
outside pytest's capture. ``dlr-conformance -q`` (``-p no:dlr_progress`` in a pytest run) turns it off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, Protocol, TextIO

import pytest

__all__ = ["LOG_INTERVAL", "PLUGIN_NAME", "QUIET_START", "Progress", "describe"]

PLUGIN_NAME = "dlr_progress"
QUIET_START = 5.0  # seconds before a live line appears on a terminal
LOG_INTERVAL = 10.0  # seconds between plain lines in a log
TICK = 0.5  # seconds between redraws on a terminal


class _Counts(Protocol):
    """What the progress line reads from a run."""

    @property
    def requests_sent(self) -> int: ...

    @property
    def failed_deliveries(self) -> int: ...


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def describe(sent: int, planned: int, failed: int, elapsed: float) -> str:
    """The progress line: sent/planned, failures so far, rate, elapsed, ETA (when the plan still holds)."""
    rate = sent / elapsed if elapsed > 0 else 0.0
    line = f"dlr-conformance: {sent:,}/{planned:,} requests sent, {failed:,} failed, {rate:,.0f}/s, "
    line += f"elapsed {_duration(elapsed)}"
    if rate > 0 and sent < planned:
        line += f", ETA {_duration((planned - sent) / rate)}"
    return line


def _terminal(file: Any) -> TextIO | None:
    """A file on pytest's own output, past pytest's capture (which redirects fd 1 while a test runs), or None."""
    try:
        return os.fdopen(os.dup(file.fileno()), "w", encoding="utf-8", errors="replace")
    except (AttributeError, OSError, ValueError):  # not a real file (pytester in-process, a StringIO)
        return None


class Progress:
    """A pytest plugin that shows the run's progress while the suite runs (registered by the suite's plugin)."""

    def __init__(self, counts: _Counts, planned: Callable[[], int]) -> None:
        self._counts = counts
        self._planned = planned
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        self._tw: Any = None
        self._out: TextIO | None = None
        self._live = False
        self._started = 0.0

    # -- pytest hooks ---------------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return (yield)
        self._tw = session.config.get_terminal_writer()
        self._out = _terminal(self._tw._file)  # its file: pytest's writer has no public handle to it
        if self._out is None:
            return (yield)
        self._live = bool(reporter.isatty()) and self._tw.hasmarkup
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="dlr-progress", daemon=True)
        self._thread.start()
        try:
            return (yield)
        finally:
            self._stop.set()
            self._thread.join(timeout=2)
            with self._lock:
                self._erase()
            self._out.close()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(self) -> Generator[None, object, object]:
        with self._lock:
            self._erase()
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self) -> Generator[None, object, object]:
        with self._lock:
            self._erase()
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(self) -> Generator[None, object, object]:
        with self._lock:
            self._erase()
            return (yield)

    # -- drawing --------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        next_log = self._started + LOG_INTERVAL
        while not self._stop.wait(TICK):
            now = time.monotonic()
            if self._live:
                if now - self._started >= QUIET_START:
                    self._draw(now)
            elif now >= next_log:
                next_log += LOG_INTERVAL
                self._log(now)

    def _line(self, now: float) -> str:
        return describe(
            self._counts.requests_sent, self._planned(), self._counts.failed_deliveries, now - self._started
        )

    def _draw(self, now: float) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            column = self._tw.width_of_current_line
            room = self._tw.fullwidth - column - 2
            if room < 20:  # no room after pytest's dots: draw nothing rather than wrap the line
                self._erase()
                return
            text = " " + self._line(now)[:room]
            # erase what was there, draw, and put the cursor back where pytest left it
            self._write(f"\x1b[K\x1b[2m{text}\x1b[0m\x1b[{len(text)}D")
            self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            self._write("\x1b[K")
            self._drawn = False

    def _write(self, text: str) -> None:
        assert self._out is not None
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth failing a run for
            pass

    def _log(self, now: float) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            # on its own line; pytest's dots, if any, go on below it
            self._write(("\n" if self._tw.width_of_current_line else "") + self._line(now) + "\n")
            self._tw._current_line = ""
