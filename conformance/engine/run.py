"""One conformance run: the sender, the options, and what every suite test delivered and found.

:class:`Run` lives for a pytest session; a :class:`Driver` is what one suite test drives the target (the receiver)
with: it delivers payloads, runs the checks of the test's requirement on every answer, keeps the evidence, reads
the stored state back (:meth:`Driver.await_stored`), and raises one :class:`ConformanceFailure` listing every
problem when the test ends with :meth:`Driver.verify`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import secrets
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from conformance import __version__
from conformance.checks import internals as _internals  # noqa: F401 - registers the check the catalogue names
from conformance.checks.answers import Outcome, run_checks
from conformance.checks.statuses import StatusMap, relate
from conformance.checks.stored import (
    NOT_JUDGED,
    ScenarioOutcome,
    StateFailure,
    StateView,
    run_scenario_checks,
    short_id,
)
from conformance.delivery import credentials
from conformance.delivery.masking import Redactor
from conformance.delivery.sender import DeliveryConfig, Exchange, Forged, Sender, encode
from conformance.engine.coverage import Coverage
from conformance.engine.judge import context as check_context
from conformance.engine.ledger import Ledger, prepare_records
from conformance.engine.quantiles import Quantiles
from conformance.engine.store import CommandPreparer, Preparer, Reader, StateCommandError, nothing_known, poll
from conformance.generation.aspects import requirement_of
from conformance.options import RunOptions
from conformance.requirements import Requirement, by_aspect, by_key, ids_text, needing_preparer, needing_reader

__all__ = ["EVIDENCE_CAP", "ConformanceFailure", "Driver", "Evidence", "Finding", "Run"]

MAX_IDS = 10_000  # api_job_ids kept in memory and listed in the JSON summary; past that, in a file beside it
EVIDENCE_SAMPLES = 3  # passing exchanges kept as evidence per test; every failing one up to the cap below
EVIDENCE_CAP = 20  # failures, warnings and wrongly stored messages kept as evidence (per test, per requirement of a
# load); every one is counted
PREVIEW = 300
CURL_INLINE = 2000  # request bodies longer than this are reproduced from a file, not inline


class ConformanceFailure(AssertionError):
    """A suite test found the receiver not conformant; the message lists every problem, secrets masked."""


@dataclass(frozen=True)
class Finding:
    """One failure or warning, as it goes into the reports."""

    requirement: str
    check: str
    title: str
    message: str
    case: str
    curl: str = ""
    status: int | None = None  # the answer's HTTP status; None when there was no answer
    unit: str = "delivery"  # what it counts: a delivery, or a message whose stored state is wrong
    repro: str = ""  # a shell script that reproduces it: the preparer, every callback in arrival order, the reader
    weight: int = 1  # how many it stands for: the last one kept of a capped list stands for the rest too


@dataclass
class Evidence:
    """One exchange as the output files show it, already masked."""

    label: str
    request_body: str
    status: str
    response_headers: dict[str, str]
    response_body: str
    latency: float
    problems: list[str] = field(default_factory=list)
    curl: str = ""
    failed: bool = False  # a check failed on this exchange (its problems may also be mere warnings)
    stored: bool = False  # the stored state of a message read back (reports sent, the reader's row), not an exchange


class Run:
    """The state of one conformance run against one target."""

    def __init__(self, options: RunOptions, url: str, *, embedded: bool = False) -> None:
        self.options = options
        self.url = url
        self.embedded = embedded
        self.run_id = secrets.token_hex(4)
        self.seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
        self._aim(url)
        self.started = time.time()
        self._lock = threading.Lock()
        self.latencies = Quantiles()  # exact for a default run, constant memory for a million callbacks
        self.api_job_ids: dict[str, None] = {}  # the first MAX_IDS; every one in api_job_ids_file past that
        self.api_job_ids_file: Path | None = None
        self.api_job_ids_spilled = 0
        self._ids_out: IO[str] | None = None
        self.failed_deliveries = 0  # deliveries with at least one failed check, across the run (for progress)
        # the stored state: the ledger exists only while a reader is configured (see keep_ledger)
        self.ledger: Ledger | None = None
        self.reader_label = ""
        self.preparer: Preparer | None = None
        self.preparer_label = ""
        if options.prepare_cmd:
            self.use_preparer(CommandPreparer(options.prepare_cmd, options.state_timeout), options.prepare_cmd)
        self.prepared: set[str] = set()
        # the state commands' own time, never the receiver's: calls (polls) and seconds
        self.preparer_calls = 0
        self.preparer_seconds = 0.0
        self.reader_polls = 0
        self.reader_seconds = 0.0
        self.last_read_seconds = 0.0  # the latest reader call's
        self.status_map = StatusMap.load(options.status_map) if options.status_map else None
        self.waited_for: set[str] = set()  # messages still missing when a state check's polling ended
        self._prepare_lock = threading.Lock()
        self.not_sent: dict[str, int] = {}  # why deliveries were not sent -> how many
        self.bodies_dir: Path | None = None  # where reproductions put request bodies too long for a command line
        self.error_answers = 0  # answers other than 200, each looked at for the receiver's internals
        self.exposure_count = 0  # of them, those whose body shows internals
        self.exposures: list[Outcome] = []  # the first EVIDENCE_CAP of them
        self.coverage = Coverage()  # what the deliveries exercised, counted as they come back

    def use_preparer(self, preparer: Preparer | None, label: str) -> None:
        """Create the run's messages with ``preparer`` (a command's, or a project's fixture function) from now on."""
        self.preparer = preparer
        self.preparer_label = self.redactor.mask(label) if preparer is not None else ""

    def _aim(self, url: str) -> None:
        """The target and what depends on it: the masking of its secrets, the sender, the checks' context."""
        options = self.options
        self.url = url
        self.redactor = Redactor.for_target(url, options.headers)
        # what protects the target: the credentials of the run, and the forged requests that leave them out
        self.credentials = credentials.find(url, options.headers, options.public_params)
        rng = random.Random(self.seed)  # noqa: S311 - altered values like a real one, reproducible from the seed
        self.forgeries = credentials.forgeries(url, options.headers, options.public_params, rng)
        for forgery in self.forgeries:
            for value in forgery.altered:
                self.redactor.add_header_value(value)
        for command in (options.state_cmd, options.prepare_cmd):
            if command:
                self.redactor.add_command(command)
        self.masked_url = self.redactor.mask_url(url)
        self.sender = Sender(
            DeliveryConfig(
                url,
                timeout=options.timeout,
                headers=options.headers,
                ca_bundle=options.ca_bundle,
                max_rps=options.max_rps,
                user_agent=f"dlr-conformance/{__version__} (conformance test run {self.run_id})",
            ),
            redactor=self.redactor,
            on_exchange=self._seen,
        )
        self.context = check_context(url, options.timeout, options.latency_budget)

    def retarget(self, url: str, options: RunOptions) -> None:
        """Aim the run, before anything was sent, at a target known only at run time (a fixture's live server)."""
        if self.requests_sent:
            raise RuntimeError("a run cannot change its target once requests were sent")
        self.sender.close()
        self.options = options
        self.embedded = False
        self._aim(url)

    def _seen(self, exchange: Exchange) -> None:
        if _not_sent(exchange):
            assert exchange.error is not None
            why = "the run was interrupted" if exchange.error.kind == "interrupted" else "the target was unreachable"
            self.note_not_sent(why)
            return
        if exchange.error is None and exchange.status is not None:
            with self._lock:
                self.latencies.add(exchange.elapsed)
            if exchange.status != 200:
                self._inspect_error_answer(exchange)
        if exchange.forged is None:  # a forgery exercises nothing of the contract: it is there to be refused
            self.coverage.observe(exchange.body, exchange.started, exchange.elapsed, exchange.ok)

    def note_not_sent(self, why: str, count: int = 1) -> None:
        """Count requests planned but not sent, and why (the summary's "217 of 240 planned" says it)."""
        with self._lock:
            self.not_sent[why] = self.not_sent.get(why, 0) + count

    def _inspect_error_answer(self, exchange: Exchange) -> None:
        """Every answer other than 200, whatever test got it, is looked at for the receiver's internals."""
        outcome = run_checks(exchange, self.context, by_key("internals_hidden").checks)
        with self._lock:
            self.error_answers += 1
            if outcome.warnings:
                self.exposure_count += 1
                if len(self.exposures) < EVIDENCE_CAP:
                    self.exposures.append(outcome)

    def curl(self, body: bytes, forged: Forged | None = None) -> str:
        """A ``curl`` command that repeats a delivery (``forged``: a forged request); a long body goes to a file
        beside the output files (``--data-binary @file``), so that the command stays short enough to paste and is
        never cut."""
        if self.bodies_dir is None or len(body) <= CURL_INLINE:
            return self.sender.curl(body, forged=forged)
        path = self.bodies_dir / f"body-{hashlib.sha256(body).hexdigest()[:16]}.json"
        if not path.exists():
            self.bodies_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.redactor.mask(body.decode("utf-8", "replace")).encode("utf-8"))
        return self.sender.curl(body, body_file=str(path), forged=forged)

    def repro(self, bodies: Sequence[Any], read: Sequence[str] = ()) -> str:
        """A shell script that reproduces a finding on a fresh store: the preparer with its exact input for the
        messages involved (when there is one), every callback in arrival order, then the reader asked about ``read``
        (when it is a command); secrets masked as ``***``."""
        encoded = [body if isinstance(body, bytes) else encode(body) for body in bodies]
        lines = ["#!/bin/sh", "# a reproduction of one finding of a dlr-conformance run; put back each *** first",
                 f"export DLR_RUN_ID={self.run_id}"]  # fmt: skip
        if self.options.prepare_cmd:
            messages = [m for body in encoded for m in prepare_records(json.loads(body))]
            stdin = json.dumps(
                {"run_id": self.run_id, "messages": list({m["message_id"]: m for m in messages}.values())}
            )
            lines += [
                "# the preparer creates the messages first",
                f"printf '%s\\n' {shlex.quote(stdin)} | {self.options.prepare_cmd}",
            ]
        for number, body in enumerate(encoded, 1):
            lines += [f"# callback {number} of {len(encoded)}", self.curl(body), "echo"]
        if read and isinstance(self.options.state_cmd, str) and self.options.state_cmd:
            api_job_ids = sorted({str(json.loads(body).get("api_job_id")) for body in encoded})
            stdin = json.dumps({"run_id": self.run_id, "message_ids": list(read), "api_job_ids": api_job_ids})
            lines += ["# what the receiver stored", f"printf '%s\\n' {shlex.quote(stdin)} | {self.options.state_cmd}"]
        return self.redactor.mask("\n".join(lines) + "\n")

    def note_job(self, payload: Any) -> None:
        """Remember the api_job_id a payload used, so the output files can list what a customer may purge."""
        if isinstance(payload, dict) and isinstance(payload.get("api_job_id"), str):
            with self._lock:
                self._note_id(payload["api_job_id"])

    def note_job_body(self, body: bytes) -> None:
        """Like :meth:`note_job`, for an encoded body (the api_job_id is found without decoding all of it)."""
        start = body.find(b'"api_job_id":"')
        if start >= 0:
            end = body.find(b'"', start + 14)
            if end > start:
                with self._lock:
                    self._note_id(body[start + 14 : end].decode("utf-8", "replace"))

    def spill_ids_to(self, path: str | os.PathLike[str]) -> None:
        """Where the api_job_ids go past the first :data:`MAX_IDS` (the file then lists every one, one a line)."""
        self.api_job_ids_file = Path(path)
        with contextlib.suppress(OSError):
            self.api_job_ids_file.unlink()  # a previous run's

    def _note_id(self, job_id: str) -> None:
        if job_id in self.api_job_ids:
            return
        if len(self.api_job_ids) < MAX_IDS or self.api_job_ids_file is None:
            if len(self.api_job_ids) < MAX_IDS:
                self.api_job_ids[job_id] = None
            return
        if self._ids_out is None:
            self.api_job_ids_file.parent.mkdir(parents=True, exist_ok=True)
            self._ids_out = open(self.api_job_ids_file, "w", encoding="utf-8")  # noqa: SIM115 - open for the run
            self._ids_out.writelines(f"{known}\n" for known in self.api_job_ids)
        self._ids_out.write(f"{job_id}\n")
        self.api_job_ids_spilled += 1

    def ids_file_written(self) -> str | None:
        """The file listing every api_job_id, flushed, if the run used more than :data:`MAX_IDS`; else None."""
        with self._lock:
            if self._ids_out is None:
                return None
            self._ids_out.flush()
            return str(self.api_job_ids_file)

    def keep_ledger(self, reader_label: str) -> None:
        """Remember what is sent per message from now on: a state reader will be asked what was stored."""
        self.reader_label = self.redactor.mask(reader_label)
        if self.ledger is None:
            self.ledger = Ledger()

    def stored_state_line(self) -> str:
        """One line on how the stored state is checked (the requirements that need a reader), or why it is not."""
        if self.ledger is None:
            return (
                f"not checked ({ids_text(needing_reader())}): no state reader; give one with --state-cmd 'COMMAND' "
                "(docs/how-to/state.md)"
            )
        line = f"read with the {self.reader_label}"
        if self.preparer is not None:
            line += f"; messages created first with the preparer {self.preparer_label}"
        elif not self.embedded:
            line += (
                "; no preparer: a receiver that only updates messages it sent may have ignored every report as one "
                f"for an unknown message, and {ids_text(needing_preparer())} is not checked (give --prepare-cmd)"
            )
        return line

    def prepare(self, payloads: Iterable[Any]) -> None:
        """Have the preparer create the messages of ``payloads`` not prepared yet (one call for all of them).

        Raises :class:`StateCommandError`, its ``before_first_delivery`` set when nothing was sent yet.
        """
        if self.preparer is None:
            return
        with self._prepare_lock:
            messages = []
            for payload in payloads:
                for message in prepare_records(payload):
                    if message["message_id"] not in self.prepared:
                        self.prepared.add(message["message_id"])
                        messages.append(message)
            if not messages:
                return
            first = self.requests_sent == 0
            started = time.monotonic()
            try:
                try:
                    self.preparer(self.run_id, messages)
                except StateCommandError:
                    raise
                except Exception as exc:  # a fixture's preparer: its own error, in one line
                    what = f"preparer ({self.preparer_label})"
                    raise StateCommandError(what, f"raised {type(exc).__name__}: {exc}") from exc
            except StateCommandError as exc:
                exc.before_first_delivery = first  # type: ignore[attr-defined]
                raise
            finally:
                self.preparer_calls += 1
                self.preparer_seconds += time.monotonic() - started

    def timed(self, reader: Reader) -> Reader:
        """``reader``, its calls counted and timed as the reader's (never the receiver's) time."""

        def read(request: dict[str, Any]) -> Iterable[Mapping[str, Any]]:
            started = time.monotonic()
            try:
                return list(reader(request))
            finally:
                with self._lock:
                    self.last_read_seconds = time.monotonic() - started
                    self.reader_polls += 1
                    self.reader_seconds += self.last_read_seconds

        return read

    def state_commands(self) -> dict[str, dict[str, float]]:
        """How often the preparer and the reader were called during the run, and for how long in all."""
        return {
            "preparer": {"calls": self.preparer_calls, "seconds": round(self.preparer_seconds, 3)},
            "reader": {"polls": self.reader_polls, "seconds": round(self.reader_seconds, 3)},
        }

    def state_commands_line(self) -> str:
        """``preparer: 2 calls, 1.2 s; reader: 14 polls, 2.3 s``: the state commands' own time, apart from the
        receiver's latency; "" when the run has neither."""
        parts = []
        if self.preparer is not None:
            parts.append(f"preparer: {_count(self.preparer_calls, 'call')}, {self.preparer_seconds:.1f} s")
        if self.ledger is not None:
            parts.append(f"reader: {_count(self.reader_polls, 'poll')}, {self.reader_seconds:.1f} s")
        return "; ".join(parts)

    def prepare_bodies(self, bodies: Sequence[bytes]) -> None:
        """:meth:`prepare` for encoded callbacks (a batch of generated payloads)."""
        if self.preparer is not None:
            self.prepare([json.loads(body) for body in bodies])

    def observe(self, exchange: Exchange, payload: Any = None, case: str = "") -> None:
        """Note a delivered callback in the ledger (when a reader is configured), with the answer it got."""
        if self.ledger is None:
            return
        if payload is None:
            try:
                payload = exchange.payload()
            except ValueError:
                return
        self.ledger.note(payload, exchange.status if exchange.error is None else None, case)

    @property
    def requests_sent(self) -> int:
        """Requests that actually went out (deliveries skipped as unreachable are not counted)."""
        return self.sender.requests_sent

    def latency_figures(self) -> dict[str, float | None]:
        """p50, p95 and max of answered requests, in seconds (estimated within 0.5% past 10,000 answers)."""
        with self._lock:
            if not self.latencies.count:
                return {"p50": None, "p95": None, "max": None}
            figures = self.latencies
            return {"p50": figures.quantile(0.5), "p95": figures.quantile(0.95), "max": figures.max}

    def driver(self, requirement: Requirement, name: str) -> Driver:
        """A :class:`Driver` for one suite test."""
        return Driver(self, requirement, name)

    def close(self) -> None:
        """Close connections and worker threads."""
        self.sender.close()
        with self._lock:
            if self._ids_out is not None:
                self._ids_out.close()


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _not_sent(exchange: Exchange) -> bool:
    """True for a delivery that never went out (the run was interrupted, the target was unreachable)."""
    return exchange.error is not None and exchange.error.reason.startswith("not sent")


def _preview(data: bytes | str, limit: int = PREVIEW) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


class Driver:
    """What one suite test drives the target with: deliver, judge each answer, keep evidence, verify."""

    rehearsing = False  # a rehearsal (engine.plan) sends nothing: it only learns what would be sent

    def __init__(self, run: Run, requirement: Requirement, name: str) -> None:
        self.run = run
        self.requirement = requirement
        self.name = name
        self.delivered = 0
        self.failed_outcomes: list[tuple[str, Outcome, str]] = []  # label, outcome, the requirement it went under
        self.failed_under: dict[str, int] = {}  # failed deliveries by the requirement they are recorded under
        self.findings: list[Finding] = []
        self.warnings: list[Finding] = []
        self.evidence: list[Evidence] = []
        self.notes: list[str] = []
        self.stored_failures: list[StateFailure] = []
        self.refused: list[tuple[list[dict[str, Any]], str]] = []  # batches answered other than 200: records, answer
        self._samples = 0
        self._lock = threading.Lock()

    # -- delivering -----------------------------------------------------------------------------------------
    def deliver(
        self,
        payload: Any,
        label: str = "",
        *,
        prepare: bool = True,
        forged: Forged | None = None,
        checks: Sequence[str] = (),
    ) -> Outcome:
        """Deliver one payload, check the answer (with the requirement's checks, or ``checks``), keep the evidence.

        Its messages are prepared first (if a preparer is given and they were not), unless ``prepare`` is False (a
        report for a message not stored yet) or the request is ``forged`` (credentials left out or altered: a
        forgery targets a message the run already reported on)."""
        self.run.note_job(payload)
        if prepare and forged is None:
            self.run.prepare([payload])
        exchange = self.run.sender.deliver(payload, label=label, forged=forged)
        self.observe(exchange, payload, label or self.name)
        self._note_refused(exchange, payload)
        return self.judge(exchange, checks=checks, exercised=self.exercised(payload))

    def deliver_blaming(self, payload: Any, label: str, twins: Sequence[tuple[str, Any]]) -> Outcome:
        """Deliver a payload that mixes what several requirements judge; if it fails, deliver each twin (the payload
        with only one requirement's part) and record the failure under the first whose twin fails too (the test's
        own requirement when none does)."""
        self.run.note_job(payload)
        self.run.prepare([payload])
        exchange = self.run.sender.deliver(payload, label=label)
        self.observe(exchange, payload, label or self.name)
        outcome = self.judge(exchange, keep=False)
        blamed = ""
        if outcome.failures:
            for requirement, twin in twins:
                answer = self.run.sender.deliver(twin, label=f"{label}: twin for {requirement}")
                if self.judge(answer, keep=False).failures:
                    blamed = requirement
                    break
            self.notes.append(
                f"{label}: refused; "
                + (
                    f"its twin for {blamed} was refused too, so the failure is recorded under {blamed}"
                    if blamed
                    else "each twin was accepted: only the combination is refused"
                )
            )
        self.record(outcome, blamed)
        return outcome

    def deliver_many(
        self,
        payloads: Sequence[Any],
        *,
        concurrency: int,
        labels: Sequence[str] = (),
        scenario: str = "",
        prepare: bool = True,
    ) -> list[Outcome]:
        """Deliver several payloads at once (at most ``concurrency`` in flight) and judge each answer; ``scenario``:
        the coverage cell these deliveries exercise that their bodies cannot show (a burst, a stream)."""
        for payload in payloads:
            self.run.note_job(payload)
        if prepare:
            self.run.prepare(payloads)
        exchanges = self.run.sender.deliver_many(payloads, concurrency=concurrency)
        outcomes = []
        for i, exchange in enumerate(exchanges):
            exchange.label = labels[i] if i < len(labels) else exchange.label
            self.observe(exchange, payloads[i], exchange.label or self.name)
            self._note_refused(exchange, payloads[i])
            if scenario and not _not_sent(exchange):
                self.run.coverage.scenario(scenario, exchange.ok)
            outcomes.append(self.judge(exchange, exercised=self.exercised(payloads[i])))
        return outcomes

    def deliver_unknown(self, payloads: Sequence[Any], labels: Sequence[str]) -> list[Outcome]:
        """Deliver reports of messages not prepared yet, one after the other. Any answer is a legitimate choice
        here (not 200: the platform retries it; the caller delivers the retry and that is judged), so the answer's
        status is not checked; a report is noted for the stored-state checks only when answered 200."""
        checks = tuple(name for name in self.requirement.checks if name != "status_code_is_200")
        outcomes = []
        for payload, label in zip(payloads, labels, strict=True):
            self.run.note_job(payload)
            exchange = self.run.sender.deliver(payload, label=label)
            if exchange.ok:
                self.observe(exchange, payload, label)
            outcome = run_checks(exchange, self.run.context, checks)
            self.record(outcome)
            outcomes.append(outcome)
        return outcomes

    def prepare(self, payloads: Sequence[Any]) -> None:
        """Have the preparer create the messages of ``payloads`` now (those it has not created yet)."""
        self.run.prepare(payloads)

    def _note_refused(self, exchange: Exchange, payload: Any) -> None:
        """Remember a batch answered other than 200, to show which of its records the receiver applied anyway."""
        if exchange.error is None and exchange.status == 200:
            return
        records = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(records, list) and len(records) > 1 and all(isinstance(r, dict) for r in records):
            answer = f"answering {exchange.status}" if exchange.error is None else "no complete answer"
            with self._lock:
                self.refused.append((records, answer))

    def _applied_anyway(self, rows: dict[str, dict[str, Any]]) -> None:
        """For each refused batch, which of its records the receiver applied anyway (a note: evidence, no finding)."""
        for records, answer in self.refused:
            applied = 0
            for record in records:
                stored = rows.get(str(record.get("message_id")), {}).get("status")
                if stored and relate(str(stored), [str(record.get("status"))], self.run.status_map).statuses:
                    applied += 1
            n = len(records)
            if applied:
                self.notes.append(
                    f"A batch of {n} records was refused ({answer}), yet the receiver applied {applied} of its {n} "
                    f"records: the batch is not applied whole, and the platform's retry delivers all {n} again."
                )
            else:
                self.notes.append(f"A batch of {n} records was refused ({answer}): the receiver applied none of it.")

    def observe(self, exchange: Exchange, payload: Any = None, case: str = "") -> None:
        """Note a delivery for the stored-state checks, unless this requirement's values are not judged there."""
        if self.requirement.id not in NOT_JUDGED:  # the case names its scenario: it may be judged under another
            self.run.observe(exchange, payload, f"{case} ({self._scenario})")

    @property
    def _scenario(self) -> str:
        return f"a {self.requirement.id} scenario"

    def exercised(self, payload: Any) -> str:
        """The requirement an answer's failure on ``payload`` is recorded under: the test's own, but for a scenario
        judged on the stored state, whose answers are not what it judges: there, the requirement the payload
        exercises (an unknown status: the statuses'; a plain callback: answered 200). A delivery answered other
        than 200 was never acknowledged, so it is one finding, never also one of the stored state."""
        if not self.requirement.needs_reader:
            return self.requirement.id
        exercised = requirement_of(payload)
        return by_key("answered_200").id if exercised == by_aspect("realistic").id else exercised

    def judge(
        self, exchange: Exchange, *, keep: bool = True, checks: Sequence[str] = (), exercised: str = ""
    ) -> Outcome:
        """Run the requirement's checks (or ``checks``) on one exchange; record failures, warnings and evidence
        (under ``exercised``, default the test's requirement)."""
        outcome = run_checks(exchange, self.run.context, checks or self.requirement.checks)
        if keep:
            self.record(outcome, exercised)
        return outcome

    def record(self, outcome: Outcome, requirement: str = "") -> None:
        """Count an outcome and keep it as evidence if it failed, warned, or is among the first samples.

        Its findings go under ``requirement`` (default: the test's), the one the delivered payload exercises.
        """
        exchange = outcome.exchange
        requirement = requirement or self.requirement.id
        with self._lock:
            self.delivered += 1
            curl = ""
            if outcome.failures:
                self.failed_under[requirement] = self.failed_under.get(requirement, 0) + 1
                self.run.failed_deliveries += 1
                curl = self.run.curl(exchange.body, exchange.forged)
                if len(self.failed_outcomes) < EVIDENCE_CAP:
                    self.failed_outcomes.append((exchange.label, outcome, requirement))
                for failure in outcome.failures:
                    self.findings.append(
                        Finding(
                            requirement,
                            failure.check,
                            failure.title,
                            self._mask(str(failure)),
                            exchange.label or self.name,
                            curl,
                            exchange.status if exchange.error is None else None,
                            repro=self.run.repro([exchange.body]),
                        )
                    )
            for warning in outcome.warnings:
                if len(self.warnings) < EVIDENCE_CAP:
                    self.warnings.append(
                        Finding(
                            requirement,
                            warning.check,
                            warning.title,
                            self._mask(str(warning)),
                            exchange.label or self.name,
                        )
                    )
            keep = bool(outcome.failures) and sum(e.failed for e in self.evidence) < EVIDENCE_CAP
            keep = keep or (not outcome.failures and self._samples < EVIDENCE_SAMPLES)
            if keep:
                if not outcome.failures:
                    self._samples += 1
                self.evidence.append(self._evidence(outcome, curl))

    def put_first(self, outcome: Outcome, label: str, requirement: str = "") -> None:
        """Show a failed outcome first among the failures and the evidence, under ``label``, whatever the caps.

        For the one delivery that matters most, such as the generated check's minimal failing payload. An outcome
        not recorded yet is recorded (counted) first.
        """
        if not any(known is outcome for _, known, _ in self.failed_outcomes):
            outcome.exchange.label = label
            self.record(outcome, requirement)
        outcome.exchange.label = label
        with self._lock:
            under = requirement or self.requirement.id
            self.failed_outcomes = [(label, outcome, under)] + [o for o in self.failed_outcomes if o[1] is not outcome]
            evidence = self._evidence(outcome, self.run.curl(outcome.exchange.body))
            self.evidence = [evidence] + [e for e in self.evidence if e.request_body != evidence.request_body]
            # its findings lead too, under the label: the output files' reproduction of the cause is this delivery
            first = [replace(f, case=label) for f in self.findings if f.curl == evidence.curl]
            self.findings = first + [f for f in self.findings if f.curl != evidence.curl]

    def _mask(self, text: str) -> str:
        return self.run.redactor.mask(text)

    def _evidence(self, outcome: Outcome, curl: str) -> Evidence:
        exchange = outcome.exchange
        if exchange.error is not None:
            status = f"no answer: {exchange.error.reason}"
        else:
            status = f"{exchange.status} {exchange.reason}".strip()
        try:
            body = json.dumps(exchange.payload(), ensure_ascii=False, indent=1)
        except ValueError:
            body = exchange.body.decode("utf-8", "replace")
        return Evidence(
            label=self._mask(exchange.label),
            request_body=self._mask(_preview(body, 4000)),
            status=self._mask(status),
            response_headers={k: self._mask(v) for k, v in exchange.headers.items()},
            response_body=self._mask(_preview(exchange.response_body, 2000)),
            latency=exchange.elapsed,
            problems=[self._mask(f"{f.title}: {f.received}") for f in outcome.failures]
            + [self._mask(str(w)) for w in outcome.warnings],
            curl=curl,
            failed=bool(outcome.failures),
        )

    # -- the stored state -----------------------------------------------------------------------------------
    def await_stored(self, reader: Reader) -> ScenarioOutcome:
        """Read the stored state until this requirement's scenario checks hold or ``--state-timeout`` passes.

        One reader call per poll, for every message of the run; the failures of the last poll are recorded.
        """
        run = self.run
        if run.ledger is None:
            run.keep_ledger("a state reader")
        ledger = run.ledger
        assert ledger is not None

        def judge(rows: dict[str, dict[str, Any]]) -> tuple[ScenarioOutcome, bool]:
            view = StateView(ledger, rows, prepared=run.preparer is not None, status_map=run.status_map)
            outcome = run_scenario_checks(view, self.requirement.scenario_checks)
            # messages an earlier scenario already waited for in vain are not waited for again
            complete = all(m.message_id in rows or m.message_id in run.waited_for for m in ledger.acknowledged())
            return outcome, outcome.passed and complete

        refused_ids = [str(r.get("message_id")) for records, _ in self.refused for r in records]

        def request() -> dict[str, Any]:
            asked = ledger.request(run.run_id)
            known = set(asked["message_ids"])
            asked["message_ids"] += [m for m in dict.fromkeys(refused_ids) if m not in known]
            return asked

        polled = poll(run.timed(reader), request, judge, run.options.state_timeout)
        rows, outcome, polls = polled.rows, polled.judged, polled.polls
        acknowledged = ledger.acknowledged()
        if acknowledged and not any(m.message_id in rows for m in acknowledged):
            outcome = self._nothing_known(len(acknowledged))
        run.waited_for.update(m.message_id for m in ledger.acknowledged() if m.message_id not in rows)
        self.notes.append(
            f"Stored state of {len(ledger.acknowledged())} messages read {polls} time{'s' if polls != 1 else ''} "
            f"in {polled.waited:.1f} s ({run.reader_label or 'state reader'}); the reader knew {len(rows)} of them."
        )
        self._applied_anyway(rows)
        for failure in outcome.failures:
            self.record_stored_failure(failure)
        if outcome.failures or not outcome.not_checked:
            wrong = {p.message_id for failure in outcome.failures for p in failure.problems}
            run.coverage.stored(self.requirement, len(ledger.acknowledged()), len(wrong))
        return outcome

    def _nothing_known(self, acknowledged: int) -> ScenarioOutcome:
        """The reader knows none of the run's messages: not checked, with the hint, or a set-up error with a
        preparer (:func:`~conformance.engine.store.nothing_known`)."""
        hint = "give --prepare-cmd to create the run's messages first (docs/how-to/state.md)"
        return ScenarioOutcome(
            not_checked=[nothing_known(acknowledged, prepared=self.run.preparer is not None, hint=hint)]
        )

    def read_stored(
        self, reader: Reader, payload: dict[str, Any], holds: Callable[[dict[str, Any] | None], bool]
    ) -> dict[str, Any] | None:
        """The stored row of the first message of ``payload``, read until ``holds(row)`` or ``--state-timeout``."""
        run = self.run
        message_id = str(payload["data"][0]["message_id"])
        request = {"run_id": run.run_id, "message_ids": [message_id], "api_job_ids": [payload["api_job_id"]]}

        def judge(rows: dict[str, dict[str, Any]]) -> tuple[dict[str, Any] | None, bool]:
            row = rows.get(message_id)
            return row, holds(row)

        polled = poll(reader, lambda: request, judge, run.options.state_timeout, only=frozenset({message_id}))
        return polled.judged

    def record_stored_failure(self, failure: StateFailure) -> None:
        """Record a stored-state failure (a scenario check's, or one a scenario found itself): each problem with the
        row read as its evidence."""
        with self._lock:
            self.stored_failures.append(failure)
            kept = failure.problems[:EVIDENCE_CAP]
            for number, problem in enumerate(kept, 1):
                sent = problem.reports[-1] if problem.reports else None
                curl = self.run.sender.curl(encode(sent)) if sent is not None else ""
                # the output files name the message whole, so that it can be searched for (the console may shorten)
                text = problem.text.replace(short_id(problem.message_id), problem.message_id, 1)
                self.findings.append(
                    Finding(
                        self.requirement.id,
                        failure.check,
                        failure.title,
                        self._mask(f"{failure.title}\nReceived: {text}\nExpected: {failure.expected}"),
                        self._mask(problem.case.removesuffix(f" ({self._scenario})") or self.name),
                        curl,
                        unit="message",
                        weight=1 + (len(failure.problems) - len(kept) if number == len(kept) else 0),
                        repro=self.run.repro(list(problem.reports), [problem.message_id]),
                    )
                )
                row = "no row" if problem.row is None else json.dumps(problem.row, ensure_ascii=False, indent=1)
                reports = json.dumps(list(problem.reports), ensure_ascii=False, indent=1)
                self.evidence.append(
                    Evidence(
                        label=self._mask(f"stored state of message {problem.message_id}"),
                        request_body=self._mask(_preview(f"reports sent and answered 200:\n{reports}", 4000)),
                        status=self._mask("the reader returned " + ("no row" if problem.row is None else "this row")),
                        response_headers={},
                        response_body=self._mask(_preview(row, 2000)),
                        latency=self.run.last_read_seconds,
                        problems=[self._mask(f"{failure.title}: {text}")],
                        curl=curl,
                        failed=True,
                        stored=True,
                    )
                )
            if len(failure.problems) > EVIDENCE_CAP:
                self.notes.append(
                    f"{failure.title}: {len(failure.problems)} messages in all; the reports show the first "
                    f"{EVIDENCE_CAP}."
                )

    # -- verdict --------------------------------------------------------------------------------------------
    @property
    def own_failures(self) -> int:
        """Failed deliveries recorded under this test's own requirement."""
        return self.failed_under.get(self.requirement.id, 0)

    @property
    def recorded_elsewhere(self) -> dict[str, int]:
        """Failed deliveries this scenario found that are recorded under another requirement, by that requirement."""
        return {r: n for r, n in self.failed_under.items() if r != self.requirement.id}

    def recorded_note(self) -> str:
        """One line saying where this scenario's failures recorded under other requirements went ("" if none)."""
        elsewhere = self.recorded_elsewhere
        parts = []
        for requirement, count in elsewhere.items():
            first = next(f for f in self.findings if f.requirement == requirement)
            answer = f"answered {first.status}" if first.status is not None else "no complete answer"
            parts.append(f"{count} under {requirement} ({first.case}: {first.title}, {answer})")
        if not parts:
            return ""
        total = sum(elsewhere.values())
        found = f"{total} failed deliver{'ies' if total != 1 else 'y'} found by this scenario"
        if len(parts) == 1:
            text = f"{found} {'are' if total != 1 else 'is'} recorded under {parts[0].split(' under ', 1)[1]}"
        else:
            text = f"{found} are recorded under other requirements: {'; '.join(parts)}"
        return self._mask(text + f", not under {self.requirement.id}.")

    def note_recorded(self) -> None:
        """Add :meth:`recorded_note` to the notes (once), before the test ends."""
        note = self.recorded_note()
        if note and note not in self.notes:
            self.notes.append(note)

    def verify(self) -> None:
        """Raise :class:`ConformanceFailure` listing every failed delivery and stored-state problem recorded under
        this test's requirement, if any. Failures recorded under another requirement fail that one, not this test:
        a note says where they went."""
        self.note_recorded()
        own = self.own_failures
        if not own and not self.stored_failures:
            return
        req = self.requirement
        lines = []
        if own:
            lines.append(f"{own} of {self.delivered} deliveries failed [{req.id}: {req.title}]")
            if req.level == "SHOULD":
                lines.append(f"{req.id} is a SHOULD requirement: a failed recommendation, a warning unless --strict")
        mine = [(label, outcome) for label, outcome, under in self.failed_outcomes if under == req.id]
        for label, outcome in mine[:5]:
            exchange = outcome.exchange
            for failure in outcome.failures:
                lines.append(f"- {label or self.name}: {failure.title}")
                lines.append(f"  Received: {failure.received}")
                lines.append(f"  Expected: {failure.expected}")
            if exchange.response_body:
                lines.append(f"  Response body: {_preview(exchange.response_body, 200)!r}")
            lines.append(f"  Reproduce: {self.run.curl(exchange.body, exchange.forged)}")
        if own > 5:
            lines.append(f"- … and {own - 5} more failed deliveries (see the reports)")
        for failure in self.stored_failures:
            count = len(failure.problems)
            lines.append(
                f"{count} message{'s' if count != 1 else ''} stored wrongly [{self.requirement.id}: "
                f"{self.requirement.title}]"
            )
            for problem in failure.problems[:5]:
                lines.append(f"- {failure.title}")
                lines.append(f"  Received: {problem.text}")
                lines.append(f"  Expected: {failure.expected}")
                row = "none" if problem.row is None else json.dumps(problem.row, ensure_ascii=False)
                lines.append(f"  Stored row: {_preview(row, 400)}")
            if count > 5:
                lines.append(f"- … and {count - 5} more messages (see the reports)")
        lines.extend(self.notes)
        raise ConformanceFailure(self._mask("\n".join(lines)))
