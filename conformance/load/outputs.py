"""The verdict and output files of ``dlr-conformance load``: whether the rate was held, when and how it broke.

Plain functions over per-second counts (epoch second -> [answered 200 in time, failed]), so the verdict is the
same whether one process or a master and its workers counted. A rate is *held* over a span of whole seconds when
at least :data:`HOLD` of it was sent and every answer was 200 within the deadline. One typed result,
:class:`LoadResult`, is what the console, the JSON summary and the JUnit file read: the Locust process writes it as
the JSON summary (:meth:`LoadResult.as_json`), the command reads it back (:meth:`LoadResult.from_json`), adds what
the receiver stored and writes it again. The JSON summary follows the suite's (``verdict``, ``explanation``,
``target``, ``run_id``, ``requests_sent``, ``latency_s``) and adds the load's figures; the JUnit file has one test
case. Latency percentiles come from Locust's response-time histogram, which rounds values over 100 ms to two
significant digits (the JSON says so).

A rate that was not held is not always the receiver's doing: one Locust process sends a few thousand callbacks a
second at most. Every process that sends samples, per second, its CPU demand (the share of the second it ran on a
core or waited for one) and how late its users' sends woke against their schedule (:func:`generator`); when that
process was busy and the rate was not produced, the run is an ``error`` that says the machine was the limit
(:data:`GENERATOR_LIMIT`), never a finding against the receiver.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from conformance import __version__
from conformance.load.stored import StoredResult
from conformance.load.traffic import users
from conformance.reporting import junit as junit_file
from conformance.reporting.files import write_json
from conformance.reporting.verdict import Verdict

__all__ = [
    "BUSY_CPU",
    "BUSY_LAG",
    "DEADLINE",
    "GENERATOR_LIMIT",
    "HEADERS_ENV",
    "HOLD",
    "Generator",
    "LoadResult",
    "Step",
    "generator",
    "junit",
    "summarise",
    "window",
    "write",
]

HOLD = 0.9  # share of the target rate that must be sent, in every step, for the rate to count as held
BUSY_CPU = 0.9  # a sending process that wanted a core this share of the time or more was the limit ...
BUSY_LAG = 0.25  # ... and so was one whose sends woke this many seconds or more behind their schedule
GENERATOR_LIMIT = (
    "this machine produced at most {:,.0f}/s: the receiver was not the limit; use --processes or more workers"
)
DEADLINE = "no complete answer within the {:g} s deadline"  # how the locustfile tells a deadline miss
HEADERS_ENV = "DLR_LOAD_HEADERS"  # the extra headers reach Locust here, not on its command line (``ps`` shows that)
LATENCY_NOTE = "Locust's response-time histogram: values over 100 ms are rounded to two significant digits"


@dataclass
class Step:
    """The whole seconds of one rate step (or of the whole run): what was sent, what failed, whether it held."""

    rate: float
    seconds: int
    requests: int
    failed: int
    achieved: float
    held: bool
    started_s: float = 0.0


def window(seconds: Mapping[int, Sequence[int]], start: float, end: float, rate: float) -> Step:
    """Figures of the whole seconds in [start, end): requests, failed, achieved rate, held."""
    first, last = math.ceil(start), math.floor(end)
    span = max(0, last - first)
    ok = sum(seconds[s][0] for s in range(first, last) if s in seconds)
    failed = sum(seconds[s][1] for s in range(first, last) if s in seconds)
    achieved = (ok + failed) / span if span else 0.0
    return Step(
        rate, span, ok + failed, failed, round(achieved, 1), bool(span) and failed == 0 and achieved >= HOLD * rate
    )


@dataclass
class Generator:
    """How busy the load generator was over a span: the median over its whole seconds of the busiest sending
    process's CPU demand (share of one core, run or waited for) and of the latest wake-up of its sends behind
    their schedule; whether it was the limit."""

    cpu: float | None
    lag_s: float | None
    limited: bool
    produced_at_most: int = 0  # callbacks sent in the run's busiest second


def generator(
    busy: Mapping[int, Sequence[float]], start: float, end: float, achieved: float, rate: float, deadlines_only: bool
) -> Generator:
    """Whether the generator, not the receiver, kept ``rate`` from being held over the whole seconds in [start, end).

    ``busy`` maps an epoch second to [CPU demand, latest wake-up behind schedule in s] of the busiest sending process.
    The generator was the limit when it was busy (CPU at :data:`BUSY_CPU` or more, or sends :data:`BUSY_LAG` s or
    more behind schedule) and either less than :data:`HOLD` of the rate was sent, or every failure was a deadline
    miss (``deadlines_only``: a starved process reads its answers late). A slow receiver leaves the generator idle:
    its users wait for answers, not for the CPU, so it is still the one that did not hold the rate.
    """
    samples = [busy[s] for s in range(math.ceil(start), math.floor(end)) if s in busy]
    if not samples:
        return Generator(None, None, False)
    cpu = statistics.median(sample[0] for sample in samples)
    lag = statistics.median(sample[1] for sample in samples)
    loaded = cpu >= BUSY_CPU or lag >= BUSY_LAG
    return Generator(round(cpu, 2), round(lag, 3), loaded and (achieved < HOLD * rate or deadlines_only))


@dataclass
class LoadResult:
    """A finished (or interrupted) load run: what every output of ``load`` reads."""

    target: str
    run_id: str
    started: str
    duration_s: float
    mode: str
    rate_target: float
    rate_achieved: float
    requests_sent: int
    cut_at_end: int  # in flight when the load ended: not in requests_sent, maybe received
    failed: int
    timeout_s: float
    latency_s: dict[str, float | None]
    answers: dict[str, int]
    first_failure_after_s: float | None
    steps: list[Step]
    highest_rate_held: float | None
    delivery_reports: int
    retries: int
    final_statuses: dict[str, int]
    worker_processes: int
    timeline: list[dict[str, int]]
    verdict: Verdict
    explanation: str = ""
    stored: StoredResult | None = None  # what the receiver stored, judged after the load
    not_stored: str = ""  # why the stored state was not checked ("" while the command has not said yet)
    rate_verdict: Verdict | None = None  # whether the rate alone was held, when the stored state failed the run
    generator: Generator | None = None  # how busy the load generator was where the rate broke (or overall)
    connections: int = 0  # the users (connections) that sent the rate (with --ramp, this many more each step)

    @property
    def answered(self) -> int:
        """Callbacks answered 200 in time."""
        return self.answers.get("200 OK", 0)

    def as_json(self) -> dict[str, Any]:
        """The JSON summary."""
        document: dict[str, Any] = {
            "tool": {"name": "dlr-conformance", "version": __version__},
            "command": "load",
            "target": self.target,
            "run_id": self.run_id,
            "started": self.started,
            "duration_s": self.duration_s,
            "mode": self.mode,
            "rate_target": self.rate_target,
            "rate_achieved": self.rate_achieved,
            "requests_sent": self.requests_sent,
            "cut_at_end": self.cut_at_end,
            "failed": self.failed,
            "timeout_s": self.timeout_s,
            "latency_s": self.latency_s,
            "latency_note": LATENCY_NOTE,
            "answers": self.answers,
            "first_failure_after_s": self.first_failure_after_s,
            "steps": [asdict(step) for step in self.steps],
            "highest_rate_held": self.highest_rate_held,
            "reports": {
                "callbacks": self.requests_sent,
                "delivery_reports": self.delivery_reports,
                "retries": self.retries,
                "final_statuses": self.final_statuses,
            },
            "worker_processes": self.worker_processes,
            "connections": self.connections,
            "api_job_id_prefix": f"dlrc-{self.run_id}-",
            "timeline": self.timeline,
            "verdict": self.verdict,
            "explanation": self.explanation,
        }
        if self.generator is not None:
            document["generator"] = asdict(self.generator)
        if self.stored is not None:
            document["state"] = self.stored.as_json()
        elif self.not_stored:
            document["state"] = {"checked": False, "reason": self.not_stored}
        if self.rate_verdict is not None:
            document["rate_verdict"] = self.rate_verdict
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> LoadResult:
        """The result the Locust process wrote as the JSON summary."""
        reports = document["reports"]
        return cls(
            target=document["target"],
            run_id=document["run_id"],
            started=document["started"],
            duration_s=document["duration_s"],
            mode=document["mode"],
            rate_target=document["rate_target"],
            rate_achieved=document["rate_achieved"],
            requests_sent=document["requests_sent"],
            cut_at_end=document["cut_at_end"],
            failed=document["failed"],
            timeout_s=document["timeout_s"],
            latency_s=dict(document["latency_s"]),
            answers=dict(document["answers"]),
            first_failure_after_s=document["first_failure_after_s"],
            steps=[Step(**step) for step in document["steps"]],
            highest_rate_held=document["highest_rate_held"],
            delivery_reports=reports["delivery_reports"],
            retries=reports["retries"],
            final_statuses=dict(reports["final_statuses"]),
            worker_processes=document["worker_processes"],
            timeline=list(document["timeline"]),
            verdict=Verdict(document["verdict"]),
            explanation=document["explanation"],
            generator=Generator(**document["generator"]) if "generator" in document else None,
            connections=document.get("connections", 0),
        )


def _failure_answers(answers: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(((a, n) for a, n in answers.items() if not a.startswith("200 ")), key=lambda item: -item[1])


def summarise(
    options: Any,
    tally: Any,
    steps: list[dict[str, Any]],
    stats: Any,
    *,
    started: float,
    interrupted: bool,
) -> LoadResult:
    """The result of a finished (or interrupted) load run, from the options and the merged counts."""
    seconds: dict[int, list[int]] = dict(tally.seconds)
    answers: dict[str, int] = dict(tally.answers)
    ended = max(seconds) + 1 if seconds else started
    total = sum(ok + failed for ok, failed in seconds.values())
    failed = sum(f for _, f in seconds.values())
    duration = min(float(options.dlr_duration), max(0.0, ended - started))
    judged_steps, spans = [], []
    for i, step in enumerate(steps):
        end = steps[i + 1]["started"] if i + 1 < len(steps) else min(started + duration, ended)
        if options.dlr_ramp:
            end = min(end, step["started"] + options.dlr_step)
        judged = window(seconds, step["started"] + 1, end, step["rate"])
        judged.started_s = round(max(0.0, step["started"] - started), 1)
        judged_steps.append(judged)
        spans.append((step["started"] + 1, end))
    overall = window(seconds, started + 1, started + duration, float(options.dlr_rate))
    first_failure = min(tally.first.values()) if tally.first else None
    held_rates = []
    for judged in judged_steps:
        if not judged.held:
            break
        held_rates.append(judged.rate)
    causes = _failure_answers(answers)
    deadlines_only = bool(causes) and all(answer == DEADLINE.format(float(options.dlr_timeout)) for answer, _ in causes)
    busy = tally.busy
    broken = next((i for i, judged in enumerate(judged_steps) if not judged.held), None)
    if options.dlr_ramp and broken is not None:  # the step that ended the ramp: the generator's limit, or not
        load = generator(busy, *spans[broken], judged_steps[broken].achieved, judged_steps[broken].rate, deadlines_only)
    else:
        load = generator(busy, started + 1, started + duration, overall.achieved, overall.rate, deadlines_only)
    load.produced_at_most = max((sum(counts) for counts in seconds.values()), default=0)
    if interrupted:
        verdict = Verdict.INTERRUPTED
    elif total == 0:
        verdict = Verdict.ERROR
    elif options.dlr_ramp:
        verdict = Verdict.HELD if judged_steps and all(s.held for s in judged_steps) else Verdict.NOT_HELD
    else:
        verdict = Verdict.HELD if overall.held and failed == 0 else Verdict.NOT_HELD
    if verdict == Verdict.NOT_HELD and load.limited:
        verdict = Verdict.ERROR
    result = LoadResult(
        target=options.dlr_target,
        run_id=options.dlr_run_id,
        started=dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
        duration_s=round(duration, 1),
        mode="ramp" if options.dlr_ramp else "constant",
        rate_target=float(options.dlr_rate),
        rate_achieved=round(total / duration, 1) if duration else 0.0,
        requests_sent=total,
        cut_at_end=tally.cut,
        failed=failed,
        timeout_s=float(options.dlr_timeout),
        latency_s=_latency(stats),
        answers=dict(sorted(answers.items(), key=lambda item: -item[1])),
        first_failure_after_s=None if first_failure is None else round(max(0.0, first_failure - started), 1),
        steps=judged_steps,
        highest_rate_held=max(held_rates) if held_rates else None,
        delivery_reports=tally.reports,
        retries=tally.retries,
        final_statuses=dict(tally.finals),
        worker_processes=len(getattr(tally, "processes", ())) or 1,
        timeline=[{"second": s - int(started), "ok": v[0], "failed": v[1]} for s, v in sorted(seconds.items())],
        verdict=verdict,
        generator=load,
        connections=users(options.dlr_rate, options.dlr_connections, options.dlr_processes),
    )
    result.explanation = _explain(result, overall, causes)
    return result


def _latency(stats: Any) -> dict[str, float | None]:
    if stats is None or not stats.num_requests:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    highest = round(stats.max_response_time / 1000, 4)
    out: dict[str, float | None] = {}
    for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        # the histogram rounds a bucket up: never report a percentile above the exact maximum
        out[name] = min(highest, round(stats.get_response_time_percentile(share) / 1000, 4))
    out["max"] = highest
    return out


def _share(part: int, whole: int) -> str:
    percent = 100 * part / whole if whole else 0
    return f"{percent:.0f}%" if percent >= 1 else f"{percent:.2g}%"


def _explain(result: LoadResult, overall: Step, causes: list[tuple[str, int]]) -> str:
    """One or two sentences: held or not, and when and how it broke."""
    verdict, rate, total = result.verdict, result.rate_target, result.requests_sent
    if verdict == Verdict.INTERRUPTED:
        return f"The run was interrupted after {total:,} callbacks; what ran so far is reported."
    if verdict == Verdict.ERROR and result.generator is not None and result.generator.limited:
        return _generator_limit(result)
    if verdict == Verdict.ERROR:
        return "No callback was sent: the load could not be judged."
    cause = ""
    if causes:
        answer, count = causes[0]
        cause = f"{_share(count, total)} answered {answer}" if not answer.startswith("no ") else f"{answer}"
        cause += f" ({count:,} of {total:,})"
    if result.mode == "ramp":
        steps, held = result.steps, result.highest_rate_held
        broken = next((s for s in steps if not s.held), None)
        if broken is None:
            top = steps[-1].rate if steps else rate
            return f"Held every step up to {top:,.0f} callbacks/s; the duration ended before the receiver broke."
        head = f"holds {held:,.0f} callbacks/s" if held else f"does not hold even {rate:,.0f} callbacks/s"
        how = (
            f"{_share(broken.failed, broken.requests)} failed ({causes[0][0]})"
            if broken.failed and causes
            else f"only {broken.achieved:,.0f}/s were sent and answered"
        )
        return f"The receiver {head}; at {broken.rate:,.0f}/s {how}."
    if verdict == Verdict.HELD:
        return (
            f"Held {rate:,.0f} callbacks/s for {result.duration_s:.0f} s: {total:,} callbacks, every one "
            f"answered 200 within {result.timeout_s:g} s ({overall.achieved:,.0f}/s achieved)."
        )
    parts = []
    if result.failed:
        parts.append(f"after {result.first_failure_after_s:g} s the receiver failed callbacks: {cause}")
    if overall.achieved < HOLD * rate:
        parts.append(f"only {overall.achieved:,.0f} of {rate:,.0f} callbacks/s were sent and answered")
    return f"The rate of {rate:,.0f} callbacks/s was not held: " + "; ".join(parts) + "."


def _generator_limit(result: LoadResult) -> str:
    """The error of a run whose generator could not send the rate: what it produced, and what to do."""
    load = result.generator
    assert load is not None
    busy = f"it wanted a core {load.cpu or 0:.0%} of the time, its sends up to {load.lag_s or 0:g} s behind schedule"
    asked = next((s.rate for s in result.steps if not s.held), result.rate_target)
    held = result.highest_rate_held
    before = f" (the receiver held {held:,.0f}/s, the step before)" if held else ""
    return (
        f"The load generator could not send {asked:,.0f} callbacks/s ({busy}), so the receiver was not "
        f"judged{before}; {GENERATOR_LIMIT.format(load.produced_at_most)}."
    )


def junit(result: LoadResult) -> junit_file.Suite:
    """The JUnit file's one test case: the load held (and, with --state-cmd, what it judges of the stored state --
    nothing acknowledged lost, no retry processed twice -- holds: each such requirement is a property of the test
    case, its evidence in its failure), or not."""
    name = f"holds {result.rate_target:g} callbacks/s" + (" (ramp)" if result.mode == "ramp" else "")
    properties = [("run_id", result.run_id)]
    evidence = []
    for requirement in result.stored.requirements if result.stored is not None else []:
        properties.append((requirement.id, requirement.status))
        evidence += [f"{requirement.id}: {problem.text}" for problem in requirement.evidence]
    case = junit_file.Case("dlr-conformance.load", name, result.duration_s, properties)
    if result.verdict.failed:
        case.kind, case.message = "failure", result.explanation
        case.text = "\n".join([json.dumps(result.answers), *evidence])
    elif result.verdict.unjudged:
        case.kind, case.message = "error", result.explanation
    return junit_file.Suite("dlr-conformance load", [case], time=result.duration_s)


def write(result: LoadResult, json_path: str, junit_path: str) -> None:
    """Write the JSON summary and the JUnit file (each atomically)."""
    if json_path:
        write_json(json_path, result.as_json())
    if junit_path:
        junit_file.write(junit_path, junit(result))
