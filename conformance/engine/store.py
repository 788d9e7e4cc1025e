"""The customer's store, reached through the state reader and the preparer: shell commands or fixture functions.

The *state reader* (``--state-cmd``, or the ``dlr_state_reader`` fixture) tells the tool what the receiver holds
per message; the *preparer* (``--prepare-cmd``) creates the run's messages in the receiver's store first, so that
a receiver which only updates messages it sent takes its real path.

Formats (``docs/how-to/state.md``): the reader gets ``{"run_id", "message_ids", "api_job_ids"}`` on stdin and
``DLR_RUN_ID`` in its environment, and prints JSON Lines or a JSON array, one object per message it knows:
``message_id`` and ``status`` (strings, required), ``reports`` (an integer, optional) and any field of the
callback under its own name. The preparer gets ``{"run_id", "messages": [{message_id, api_job_id, to,
client_message_id, client_job_id, type}, ...]}`` on stdin.

Every face reads the store the same way: :func:`probe` calls the reader once before anything is sent (a broken
reader is a usage error, found before the receiver is touched), and :func:`poll` reads until a judgement of the
rows holds or the state timeout passes (the suite's stored-state scenarios, the stored state after a load).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

NO_READER = (
    "not checked: no state reader was given, so what the receiver stored is unknown; give one with --state-cmd "
    "'COMMAND' (see docs/how-to/state.md)"
)


STDERR_LINES = 5
POLL_INTERVAL = 0.25  # seconds between two reads of the stored state while it is still wrong


Reader = Callable[[dict[str, Any]], Iterable[Mapping[str, Any]]]
Preparer = Callable[[str, list[dict[str, Any]]], None]


class StateCommandError(Exception):
    """The state reader or the preparer failed: one line naming the problem and the last lines of its stderr.

    The last ones: a tool's error comes at the end of what it printed (``no such table``, ``UNIQUE constraint
    failed`` after a traceback or a framework's banner); the whole stderr stays in :attr:`stderr`."""

    def __init__(self, what: str, problem: str, stderr: str = "") -> None:
        lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
        text = f"the {what} {problem}"
        if len(lines) > STDERR_LINES:
            text += f"; the end of its stderr ({len(lines)} lines): " + " | ".join(lines[-STDERR_LINES:])
        elif lines:
            text += "; its stderr: " + " | ".join(lines)
        super().__init__(text)
        self.what = what
        self.problem = problem
        self.stderr = stderr


def run_command(command: str, stdin: dict[str, Any], *, what: str, timeout: float, run_id: str) -> str:
    """Run ``command`` through the shell with ``stdin`` as JSON, under a deadline; its standard output."""
    env = {**os.environ, "DLR_RUN_ID": run_id}
    try:
        proc = subprocess.Popen(  # noqa: S602 - the user's own command line, run as the user asked
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so that a hang is killed with its children
        )
    except OSError as exc:
        raise StateCommandError(what, f"could not be started ({exc.strerror})") from None
    data = json.dumps(stdin, ensure_ascii=False).encode("utf-8")
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        raise StateCommandError(
            what, f"did not finish within {timeout:g} s (--state-timeout) and was stopped", _text(err)
        ) from None
    if proc.returncode != 0:
        how = f"exited with status {proc.returncode}"
        if proc.returncode < 0:
            how = f"was killed by signal {-proc.returncode}"
        raise StateCommandError(what, how, _text(err))
    return _text(out)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def parse_rows(output: str, *, what: str = "state reader") -> list[dict[str, Any]]:
    """The reader's output (JSON Lines, or one JSON array) as rows; :class:`StateCommandError` if malformed."""
    text = output.strip()
    if not text:
        return []
    rows: list[Any]
    if text.startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise StateCommandError(what, f"printed invalid JSON ({exc}): {_head(text)!r}") from None
    else:
        rows = []
        # JSON Lines are separated by "\n" only: str.splitlines() would also split on U+2028, U+0085 and the like,
        # which a JSON string may hold unescaped
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise StateCommandError(
                    what, f"printed invalid JSON on line {number} ({exc}): {_head(line)!r}"
                ) from None
    for number, row in enumerate(rows, 1):
        _check_row(row, number, what)
    return rows


def _head(text: str) -> str:
    return text if len(text) <= 120 else text[:120] + "…"


def _check_row(row: Any, number: int, what: str) -> None:
    if not isinstance(row, dict):
        raise StateCommandError(what, f"printed row {number} that is not a JSON object: {_head(json.dumps(row))!r}")
    if isinstance(row.get("message_id"), int) and not isinstance(row["message_id"], bool):
        row["message_id"] = str(row["message_id"])  # a digits-only id stored in an integer column
    if not isinstance(row.get("message_id"), str) or not row["message_id"]:
        raise StateCommandError(
            what, f"printed row {number} without a message_id string: {_head(json.dumps(row, ensure_ascii=False))!r}"
        )
    if "status" not in row or not isinstance(row["status"], str | None):
        raise StateCommandError(
            what, f"printed row {number} without a status string: {_head(json.dumps(row, ensure_ascii=False))!r}"
        )
    reports = row.get("reports")
    if reports is not None and (isinstance(reports, bool) or not isinstance(reports, int)):
        raise StateCommandError(what, f"printed row {number} whose reports is not an integer: {reports!r}")


@dataclass(frozen=True)
class CommandReader:
    """A state reader that is a shell command (``--state-cmd``)."""

    command: str
    timeout: float

    def __call__(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the command for ``request`` and parse its rows."""
        what = "state reader (--state-cmd)"
        output = run_command(self.command, request, what=what, timeout=self.timeout, run_id=str(request["run_id"]))
        return parse_rows(output, what=what)


@dataclass(frozen=True)
class CommandPreparer:
    """A preparer that is a shell command (``--prepare-cmd``)."""

    command: str
    timeout: float

    def __call__(self, run_id: str, messages: list[dict[str, Any]]) -> None:
        """Run the command with the messages to create."""
        stdin = {"run_id": run_id, "messages": messages}
        run_command(self.command, stdin, what="preparer (--prepare-cmd)", timeout=self.timeout, run_id=run_id)


def read_rows(reader: Reader, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Call any reader (a command or a fixture's function) and check its rows like a command's output."""
    try:
        rows = list(reader(request))
    except StateCommandError:
        raise
    except Exception as exc:  # a fixture's reader: its own error, in one line
        what = "state reader (fixture dlr_state_reader)"
        raise StateCommandError(what, f"raised {type(exc).__name__}: {exc}") from exc
    for number, row in enumerate(rows, 1):
        _check_row(row, number, "state reader")
    return [dict(row) for row in rows]


def probe(reader: Reader, run_id: str) -> None:
    """Call the reader once with no ids, before anything is sent; raises :class:`StateCommandError` if it fails."""
    read_rows(reader, {"run_id": run_id, "message_ids": [], "api_job_ids": []})


T = TypeVar("T")


@dataclass(frozen=True)
class Polled(Generic[T]):
    """What the last read of a poll returned (rows by message id), what the judgement made of it, how long it took."""

    rows: dict[str, dict[str, Any]]
    judged: T
    polls: int
    waited: float


def poll(
    reader: Reader,
    request: Callable[[], dict[str, Any]],
    judge: Callable[[dict[str, dict[str, Any]]], tuple[T, bool]],
    timeout: float,
    *,
    only: frozenset[str] | None = None,
) -> Polled[T]:
    """Read the stored state until ``judge`` says it holds or ``timeout`` seconds have passed.

    Each read asks the reader ``request()``; its rows (those of ``only``, if given) go to ``judge``, which returns
    its judgement and whether the state holds. The last read's rows and judgement are returned. Raises
    :class:`StateCommandError` when the reader fails.
    """
    started = time.monotonic()
    deadline = started + timeout
    polls = 0
    while True:
        rows: dict[str, dict[str, Any]] = {}
        for row in read_rows(reader, request()):
            if only is None or str(row["message_id"]) in only:
                rows[str(row["message_id"])] = row
        polls += 1
        judged, holds = judge(rows)
        remaining = deadline - time.monotonic()
        if holds or remaining <= 0:
            return Polled(rows, judged, polls, time.monotonic() - started)
        time.sleep(min(POLL_INTERVAL, remaining))


def nothing_known(acknowledged: int, *, prepared: bool, hint: str) -> str:
    """The reader knows none of the ``acknowledged`` messages answered 200: why, in one sentence, for the suite and
    ``load`` alike. Without a preparer the receiver keeps only messages it sent, as the platform expects of it: the
    stored state is not checked (``hint`` says what to give). With one, the preparer and the reader do not reach
    the same store: a set-up error (raises :class:`StateCommandError`)."""
    if prepared:
        raise StateCommandError(
            "state reader",
            f"knows none of the {acknowledged} messages the preparer created and the receiver answered 200 to: "
            "the preparer's messages are not what the reader reads; check both against one store",
        )
    return (
        f"the reader knows none of the {acknowledged} messages answered 200: the receiver keeps only messages it "
        f"sent, as the platform expects; {hint}"
    )
