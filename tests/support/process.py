"""The subprocess runner: a command in its own process, for tests where the process is the point.

Signals (Ctrl-C), a terminal, an installed wheel in a fresh virtualenv, Locust, a browser, the reference receiver
as a server, the interpreter's exit: everything else runs in-process (:mod:`tests.support.cli`). Standard output
is read as it arrives, each line stamped with ``time.monotonic()`` (the same clock in every process of the
machine); the process's peak memory is sampled while it runs.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.support.cli import Result

__all__ = ["CLI", "Finished", "Process", "dlr", "environment", "run"]

CLI = Path(sys.executable).with_name("dlr-conformance")
"""The installed console script, next to this interpreter."""


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without the tool's and pytest's own variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Finished(Result):
    """A process that ended: its exit code, output, wall time, peak memory, and stdout lines as they came."""

    max_rss_kib: int = 0
    lines: list[tuple[float, str]] = field(default_factory=list)


def _high_water_kib(pid: int) -> int:
    """The peak resident memory of a running process so far (VmHWM), 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class Process:
    """A command running in ``cwd``: stdout lines stamped as they arrive; stopped at the end of a ``with``.

    ``terminal=True`` gives it a pseudo-terminal of 120 columns as stdin, stdout and stderr (whose output is
    then all on stdout); otherwise pipes, and ``stdin`` (bytes or text) is what its standard input holds;
    ``merged=True`` puts its stderr on its stdout, in the order written (as a CI log shows them).
    """

    def __init__(
        self,
        command: Sequence[str | Path],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | str | None = None,
        terminal: bool = False,
        merged: bool = False,
    ) -> None:
        self.command = [str(part) for part in command]
        self.started = time.monotonic()
        self.lines: list[tuple[float, str]] = []
        self._err: list[bytes] = []
        environ = dict(environment() if env is None else env)
        self._leader: int | None = None
        if terminal:
            leader, follower = pty.openpty()
            fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            environ.setdefault("TERM", "xterm")
            self.proc = subprocess.Popen(
                self.command, cwd=cwd, env=environ, stdin=follower, stdout=follower, stderr=follower
            )
            os.close(follower)
            self._leader = leader
            self._readers = [threading.Thread(target=self._read_terminal, daemon=True)]
        else:
            self.proc = subprocess.Popen(
                self.command,
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merged else subprocess.PIPE,
            )
            self._readers = [threading.Thread(target=self._read_stdout, daemon=True)]
            if not merged:
                self._readers.append(threading.Thread(target=self._read_stderr, daemon=True))
            if stdin is not None:
                data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
                self._readers.append(threading.Thread(target=self._write_stdin, args=(data,), daemon=True))
        for reader in self._readers:
            reader.start()

    # -- reading -------------------------------------------------------------------------------------------------
    def _write_stdin(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # it stopped reading: what it read is what counts

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            self.lines.append((time.monotonic(), raw.decode("utf-8", "replace")))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self._err.append(self.proc.stderr.read())

    def _read_terminal(self) -> None:
        assert self._leader is not None
        while True:
            if not select.select([self._leader], [], [], 0.5)[0]:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(self._leader, 65536)
            except OSError:  # the command closed the terminal
                break
            if not data:
                break
            self.lines.append((time.monotonic(), data.decode("utf-8", "replace")))

    @property
    def stdout(self) -> str:
        """What it has printed so far."""
        return "".join(line for _, line in list(self.lines))

    def wait_for(self, pattern: str, timeout: float = 60.0) -> str:
        """The first stdout line that matches ``pattern`` (a regular expression), waiting for it to be printed."""
        expression = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            lines = list(self.lines)
            for _, line in lines[seen:]:
                if expression.search(line):
                    return line
            seen = len(lines)
            if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers[:1]):
                raise AssertionError(
                    f"{self.command[:2]} ended (exit {self.proc.returncode}) without {pattern!r}:\n"
                    f"{self.stdout[-3000:]}{b''.join(self._err).decode('utf-8', 'replace')[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r} within {timeout:g} s:\n{self.stdout[-3000:]}")
            time.sleep(0.02)

    # -- ending --------------------------------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Send SIGINT, as Ctrl-C does."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, limit: float = 120.0) -> Finished:
        """Wait for the end (killing the process after ``limit`` seconds more) and collect everything."""
        pid = self.proc.pid
        end = time.monotonic() + limit
        peak = 0
        while True:
            peak = max(peak, _high_water_kib(pid))
            waited, status = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                break
            if time.monotonic() > end:
                self.proc.kill()
                os.waitpid(pid, 0)
                self.proc.returncode = -9
                raise AssertionError(f"{self.command[:2]} did not end within {limit:g} s:\n{self.stdout[-3000:]}")
            time.sleep(0.02)
        elapsed = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        for reader in self._readers:
            reader.join(timeout=10)
        self._close()
        return Finished(
            code=self.proc.returncode,
            stdout=self.stdout,
            stderr=b"".join(self._err).decode("utf-8", "replace"),
            elapsed=elapsed,
            max_rss_kib=peak,
            lines=list(self.lines),
        )

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        if self._leader is not None:
            os.close(self._leader)
            self._leader = None

    def kill(self) -> None:
        """Kill it if it still runs."""
        if self.proc.returncode is None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        self._close()

    def __enter__(self) -> Process:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.kill()


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | str | None = None,
    timeout: float = 120.0,
    check: bool = False,
    terminal: bool = False,
    merged: bool = False,
) -> Finished:
    """Run ``command`` to its end; with ``check``, it must exit 0 (the assertion shows its output)."""
    with Process(command, cwd=cwd, env=env, stdin=stdin, terminal=terminal, merged=merged) as process:
        done = process.wait(timeout)
    if check:
        assert done.code == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n{command} exited {done.code}"
    return done


def dlr(*args: str | Path, cwd: Path | str | None = None, **options: object) -> Finished:
    """Run the installed ``dlr-conformance ARGS`` as a process (see :func:`run` for the options)."""
    return run([CLI, *args], cwd=cwd, **options)  # type: ignore[arg-type]
