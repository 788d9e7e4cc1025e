"""One conformance run: the sender, the options, and what every suite test delivered and found.

:class:`Run` lives for a pytest session; :class:`Target` is what one suite test drives: it delivers payloads,
runs the checks of the test's requirement on every answer, keeps the evidence, and raises one
:class:`ConformanceFailure` listing every problem when the test ends with :meth:`Target.verify`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from conformance import __version__
from conformance.checks import CheckContext, Outcome, run_checks
from conformance.delivery import DeliveryConfig, Exchange, Sender
from conformance.options import RunOptions
from conformance.quantiles import Quantiles
from conformance.requirements import Requirement
from conformance.secrets import Redactor

__all__ = ["ConformanceFailure", "Finding", "Run", "Target"]

MAX_IDS = 10_000  # api_job_ids kept in memory and listed in the JSON summary; past that, in a file beside it
EVIDENCE_SAMPLES = 3  # passing exchanges kept as evidence per test; every failing one up to the cap below
EVIDENCE_FAILURES = 20
PREVIEW = 300


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


@dataclass
class Evidence:
    """One exchange as shown in the reports, already masked."""

    label: str
    request_body: str
    status: str
    response_headers: dict[str, str]
    response_body: str
    latency: float
    problems: list[str] = field(default_factory=list)
    curl: str = ""
    failed: bool = False  # a check failed on this exchange (its problems may also be mere warnings)


class Run:
    """The state of one conformance run against one target."""

    def __init__(self, options: RunOptions, url: str, *, embedded: bool = False) -> None:
        self.options = options
        self.url = url
        self.embedded = embedded
        self.run_id = secrets.token_hex(4)
        self.seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
        self.redactor = Redactor.for_target(url, options.headers)
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
        self.context = CheckContext(options.timeout, options.latency_budget, https=url.lower().startswith("https:"))
        self.started = time.time()
        self._lock = threading.Lock()
        self.latencies = Quantiles()  # exact for a default run, constant memory for a million callbacks
        self.api_job_ids: dict[str, None] = {}  # the first MAX_IDS; every one in api_job_ids_file past that
        self.api_job_ids_file: Path | None = None
        self.api_job_ids_spilled = 0
        self._ids_out: IO[str] | None = None
        self.failed_deliveries = 0  # deliveries with at least one failed check, across the run (for progress)

    def _seen(self, exchange: Exchange) -> None:
        if exchange.error is None and exchange.status is not None:
            with self._lock:
                self.latencies.add(exchange.elapsed)

    def note_job(self, payload: Any) -> None:
        """Remember the api_job_id a payload used, so the report can list what a customer may purge."""
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

    def target(self, requirement: Requirement, name: str) -> Target:
        """A :class:`Target` for one suite test."""
        return Target(self, requirement, name)

    def close(self) -> None:
        """Close connections and worker threads."""
        self.sender.close()
        with self._lock:
            if self._ids_out is not None:
                self._ids_out.close()


def _preview(data: bytes | str, limit: int = PREVIEW) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


class Target:
    """What one suite test drives: deliver, check, keep evidence, verify."""

    def __init__(self, run: Run, requirement: Requirement, name: str) -> None:
        self.run = run
        self.requirement = requirement
        self.name = name
        self.delivered = 0
        self.failed_outcomes: list[tuple[str, Outcome]] = []
        self.failure_count = 0
        self.findings: list[Finding] = []
        self.warnings: list[Finding] = []
        self.evidence: list[Evidence] = []
        self.notes: list[str] = []
        self._samples = 0
        self._lock = threading.Lock()

    # -- delivering -----------------------------------------------------------------------------------------
    def deliver(self, payload: Any, label: str = "") -> Outcome:
        """Deliver one payload, check the answer, keep the evidence."""
        self.run.note_job(payload)
        exchange = self.run.sender.deliver(payload, label=label)
        return self.judge(exchange)

    def deliver_many(self, payloads: Sequence[Any], *, concurrency: int, labels: Sequence[str] = ()) -> list[Outcome]:
        """Deliver several payloads at once (at most ``concurrency`` in flight) and judge each answer."""
        for payload in payloads:
            self.run.note_job(payload)
        exchanges = self.run.sender.deliver_many(payloads, concurrency=concurrency)
        outcomes = []
        for i, exchange in enumerate(exchanges):
            exchange.label = labels[i] if i < len(labels) else exchange.label
            outcomes.append(self.judge(exchange))
        return outcomes

    def judge(self, exchange: Exchange, *, keep: bool = True) -> Outcome:
        """Run the requirement's checks on one exchange; record failures, warnings and evidence."""
        outcome = run_checks(exchange, self.run.context, self.requirement.checks)
        if keep:
            self.record(outcome)
        return outcome

    def record(self, outcome: Outcome) -> None:
        """Count an outcome and keep it as evidence if it failed, warned, or is among the first samples."""
        exchange = outcome.exchange
        with self._lock:
            self.delivered += 1
            curl = ""
            if outcome.failures:
                self.failure_count += 1
                self.run.failed_deliveries += 1
                curl = self.run.sender.curl(exchange.body)
                if len(self.failed_outcomes) < EVIDENCE_FAILURES:
                    self.failed_outcomes.append((exchange.label, outcome))
                for failure in outcome.failures:
                    self.findings.append(
                        Finding(
                            self.requirement.id,
                            failure.check,
                            failure.title,
                            self._mask(str(failure)),
                            exchange.label or self.name,
                            curl,
                        )
                    )
            for warning in outcome.warnings:
                if len(self.warnings) < EVIDENCE_FAILURES:
                    self.warnings.append(
                        Finding(
                            self.requirement.id,
                            warning.check,
                            warning.title,
                            self._mask(str(warning)),
                            exchange.label or self.name,
                        )
                    )
            keep = bool(outcome.failures) and sum(e.failed for e in self.evidence) < EVIDENCE_FAILURES
            keep = keep or (not outcome.failures and self._samples < EVIDENCE_SAMPLES)
            if keep:
                if not outcome.failures:
                    self._samples += 1
                self.evidence.append(self._evidence(outcome, curl))

    def put_first(self, outcome: Outcome, label: str) -> None:
        """Show a failed outcome first among the failures and the evidence, under ``label``, whatever the caps.

        For the one delivery that matters most, such as the generated check's minimal failing payload. An outcome
        not recorded yet is recorded (counted) first.
        """
        if not any(known is outcome for _, known in self.failed_outcomes):
            outcome.exchange.label = label
            self.record(outcome)
        outcome.exchange.label = label
        with self._lock:
            self.failed_outcomes = [(label, outcome)] + [(k, o) for k, o in self.failed_outcomes if o is not outcome]
            evidence = self._evidence(outcome, self.run.sender.curl(outcome.exchange.body))
            self.evidence = [evidence] + [e for e in self.evidence if e.request_body != evidence.request_body]

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

    # -- verdict --------------------------------------------------------------------------------------------
    def verify(self) -> None:
        """Raise :class:`ConformanceFailure` listing every failed delivery of this test, if any failed."""
        if not self.failure_count:
            return
        lines = [
            f"{self.failure_count} of {self.delivered} deliveries failed "
            f"[{self.requirement.id}: {self.requirement.title}]"
        ]
        for label, outcome in self.failed_outcomes[:5]:
            exchange = outcome.exchange
            for failure in outcome.failures:
                lines.append(f"- {label or self.name}: {failure.title}")
                lines.append(f"  Received: {failure.received}")
                lines.append(f"  Expected: {failure.expected}")
            if exchange.response_body:
                lines.append(f"  Response body: {_preview(exchange.response_body, 200)!r}")
            lines.append(f"  Reproduce: {self.run.sender.curl(exchange.body)[:2000]}")
        if len(self.failed_outcomes) > 5:
            lines.append(f"- … and {self.failure_count - 5} more failed deliveries (see the reports)")
        lines.extend(self.notes)
        raise ConformanceFailure(self._mask("\n".join(lines)))
