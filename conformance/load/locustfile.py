"""The Locust side of ``dlr-conformance load``: the locustfile that :mod:`conformance.cli.load` runs in Locust's own
processes.

Never imported by the rest of the tool: Locust monkey-patches the standard library with gevent when it is
imported, which must happen before any other network module is imported, so it only runs in processes started
as ``python -m locust -f conformance/load/locustfile.py`` (:mod:`conformance.cli.load` builds that command line).

- :class:`CallbackUser` (Locust's ``FastHttpUser``) posts campaign callbacks from
  :class:`~conformance.generation.campaign.Campaign` exactly as the platform does: ``POST``, ``Content-Type:
  application/json; charset=utf-8``, certificates verified (certifi's bundle or ``--ca-bundle``), redirects not
  followed, a deadline on the whole request (``gevent.Timeout``). Each user paces itself to its share of the rate,
  catching up at most one second behind. Its delivery path is gevent's (Locust's client, gevent's timer); the
  answer is judged as the suite and ``send`` judge it (:mod:`conformance.engine.judge`, the transport errors in
  :func:`~conformance.delivery.errors.classify`'s words), and every report it carried goes into the ledger.
- :class:`Steps` (a ``LoadTestShape``) holds the rate for the duration, or with ``--ramp`` adds the start rate
  every step until a step is not held.
- Every process counts answers per second and by status or cause; workers send theirs to the master with their
  statistics; the master (or the single process) writes the JSON summary and the JUnit file when Locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections import defaultdict
from http.client import RemoteDisconnected
from typing import Any

import gevent
import gevent.ssl
from locust import LoadTestShape, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from conformance.delivery.errors import TransportError, classify
from conformance.delivery.sender import CONTENT_TYPE, Exchange
from conformance.engine.judge import answer_text, context, delivered
from conformance.engine.ledger import LedgerLines
from conformance.generation.campaign import Campaign, templates
from conformance.load import outputs
from conformance.load.outputs import HEADERS_ENV
from conformance.load.traffic import user_seed, users

PROGRESS = 10.0  # seconds between progress lines
TEMPLATES = 64


def _options(parser: Any) -> None:
    group = parser.add_argument_group("dlr-conformance")
    group.add_argument("--dlr-rate", type=float, default=10.0, help="callbacks per second (the start rate with ramp)")
    group.add_argument("--dlr-duration", type=float, default=60.0, help="seconds")
    group.add_argument("--dlr-ramp", action="store_true", default=False, help="step the rate up until not held")
    group.add_argument("--dlr-step", type=float, default=10.0, help="seconds per ramp step")
    group.add_argument("--dlr-timeout", type=float, default=10.0, help="deadline of one whole delivery, seconds")
    group.add_argument(
        "--dlr-headers",
        default=os.environ.get(HEADERS_ENV, "[]"),
        help=f"extra headers, a JSON list of [name, value] (default: the {HEADERS_ENV} environment variable)",
    )
    group.add_argument(
        "--dlr-connections", type=int, default=0, help="users per --dlr-rate (0: one per 20/s, capped per process)"
    )
    group.add_argument("--dlr-processes", type=int, default=1, help="the processes that send (the default's cap)")
    group.add_argument("--dlr-ledger", default="", help="write every report delivered and its answer here (master)")
    group.add_argument("--dlr-ca-bundle", default="", help="CA bundle for https targets")
    group.add_argument("--dlr-run-id", default="local", help="the run id the callbacks are tagged with")
    group.add_argument("--dlr-user-agent", default="dlr-conformance", help="the User-Agent header")
    group.add_argument("--dlr-seed", type=int, default=0, help="seed of the templates and of each user's traffic")
    group.add_argument("--dlr-templates", default="", help="a JSON file of record templates (else drawn here)")
    group.add_argument("--dlr-json", default="", help="JSON summary path (master)")
    group.add_argument("--dlr-junit", default="", help="JUnit path (master)")
    group.add_argument("--dlr-target", default="", help="the target as the output files show it (masked)")
    group.add_argument("--dlr-interrupted", default="", help="a file whose existence means Ctrl-C was pressed")


class _Tally:
    """This process's answers: per second, by status or cause, and the first failure of each cause."""

    def __init__(self) -> None:
        self.processes: set[str] = set()  # the worker processes that reported (master)
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # epoch second -> [ok, failed]
        # epoch second -> [CPU demand, latest wake-up of a send behind its schedule (s)] of the busiest sending process
        self.busy: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.answers: dict[str, int] = defaultdict(int)
        self.first: dict[str, float] = {}
        self.reports = 0
        self.retries = 0
        self.cut = 0  # callbacks in flight when the load ended: sent, maybe received, never answered
        if hasattr(self, "finals"):
            self.finals.clear()  # in place: every campaign of this process counts into it
        else:
            self.finals: dict[str, int] = defaultdict(int)

    def add(self, when: float, answer: str, ok: bool) -> None:
        self.seconds[int(when)][0 if ok else 1] += 1
        self.answers[answer] += 1
        if not ok and answer not in self.first:
            self.first[answer] = when

    def late(self, when: float, lag: float) -> None:
        slot = self.busy[int(when)]
        if lag > slot[1]:
            slot[1] = lag

    def export(self) -> dict[str, Any]:
        data = {
            "seconds": {str(k): v for k, v in self.seconds.items()},
            "busy": {str(k): v for k, v in self.busy.items()},
            "answers": dict(self.answers),
            "first": dict(self.first),
            "reports": self.reports,
            "retries": self.retries,
            "cut": self.cut,
            "finals": dict(self.finals),
            "process": f"{socket.gethostname()}:{os.getpid()}",  # at export: --processes forks after the import
        }
        self.reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        for second, (ok, failed) in data["seconds"].items():
            slot = self.seconds[int(second)]
            slot[0] += ok
            slot[1] += failed
        for second, (cpu, lag) in data.get("busy", {}).items():
            busy = self.busy[int(second)]
            busy[0], busy[1] = max(busy[0], cpu), max(busy[1], lag)
        for answer, count in data["answers"].items():
            self.answers[answer] += count
        for answer, when in data["first"].items():
            self.first[answer] = min(when, self.first.get(answer, when))
        self.reports += data["reports"]
        self.retries += data["retries"]
        self.cut += data.get("cut", 0)
        for status, count in data["finals"].items():
            self.finals[status] += count
        self.processes.add(data["process"])


LEDGER = LedgerLines()  # with --state-cmd: every report this process delivered; the master's go to the file
TALLY = _Tally()  # the whole run's, on the master; this process's share, on a worker
STEPS: list[dict[str, Any]] = []  # the rate steps as they were run (master)
_START: dict[str, float] = {}
_TEMPLATES: list[dict[str, Any]] = []
_USERS = itertools.count()  # the users this process started, numbered in order


def _templates(options: Any) -> list[dict[str, Any]]:
    if not _TEMPLATES:
        path = options.dlr_templates
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as file:
                _TEMPLATES.extend(json.load(file))
        else:  # a worker on another machine: draw its own
            _TEMPLATES.extend(templates(TEMPLATES, options.dlr_seed))
    return _TEMPLATES


def _ssl_context(ca_bundle: str) -> Any:
    import certifi

    def factory(**_: Any) -> Any:
        return gevent.ssl.create_default_context(cafile=ca_bundle or certifi.where())

    return factory


class _Deadline(BaseException):  # not an Exception, so that no client code can swallow it
    """The whole-request deadline passed."""


class CallbackUser(FastHttpUser):
    """One stream of campaign callbacks, paced to its share of the rate."""

    insecure = False  # certificates are verified, as the platform does
    max_redirects = 0
    concurrency = 1

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        self.ssl_context_factory = _ssl_context(options.dlr_ca_bundle if options else "")
        if options is not None:
            self.network_timeout = self.connection_timeout = options.dlr_timeout + 1
        super().__init__(environment)
        assert options is not None
        self.deadline = float(options.dlr_timeout)
        # the whole-request deadline: one timer per user, started and cancelled around each request (a new one
        # per request cost ~4 us of the ~350 us a callback takes here; restarting this one ~1.6 us)
        self.timeout = gevent.Timeout(self.deadline, _Deadline)
        self.checks = context(self.host or "", self.deadline)
        self.headers = {"Content-Type": CONTENT_TYPE, "User-Agent": options.dlr_user_agent}
        self.headers.update({"Accept-Encoding": "identity"})
        for name, value in json.loads(options.dlr_headers):
            self.headers[name] = value
        self.seed = user_seed(options.dlr_seed, getattr(environment.runner, "worker_index", 0), next(_USERS))
        self.campaign = Campaign(options.dlr_run_id, _templates(options), seed=self.seed)
        self.campaign.finals = TALLY.finals
        self.ledger = bool(options.dlr_ledger)
        self.interval = 1.0
        self.next_at = 0.0
        self.wake_at = 0.0  # when the send loop asked to run next: how late it ran tells a starved process

    def on_start(self) -> None:
        options = self.environment.parsed_options
        rate = float(options.dlr_rate) if options else 10.0
        self.interval = _users(options) / rate  # every user sends the same share, in every ramp step too
        self.next_at = time.time() + self.interval * (self.seed % 997) / 997  # spread the users over one interval
        self.wake_at = time.time()

    def wait_time(self) -> float:
        now = time.time()
        self.next_at = max(self.next_at + self.interval, now - 1.0)  # catch up at most one second behind
        wait = max(0.0, self.next_at - now)
        self.wake_at = now + wait
        return wait

    @task
    def callback(self) -> None:
        """Deliver one campaign callback and judge its answer: exactly 200, within the deadline."""
        before = (self.campaign.reports, self.campaign.retries)
        body = self.campaign.next_body()
        sent = self.campaign.last
        TALLY.reports += self.campaign.reports - before[0]
        TALLY.retries += self.campaign.retries - before[1]
        started = time.time()
        TALLY.late(started, started - self.wake_at)  # waiting for an answer is not lag: only waiting for the CPU
        ok = None  # stays so if the load ends with this callback in flight (GreenletExit): its state is unknown
        try:
            ok = self._post(body, started)
        finally:
            if ok is None:
                TALLY.cut += 1
            if self.ledger:
                LEDGER.add(sent, bool(ok))

    def _post(self, body: bytes, started: float) -> bool:
        """Deliver one body and judge its answer as every face does; True when the platform counts it delivered."""
        exchange = Exchange(body=body, started=started)
        self.timeout.start()
        try:
            with self.client.post(
                "",
                data=body,  # type: ignore[arg-type]  # bytes are sent as they are
                headers=self.headers,
                name="callback",
                catch_response=True,
                allow_redirects=False,
            ) as response:
                exchange.elapsed = time.time() - started
                if response.status_code:
                    exchange.status, exchange.reason = response.status_code, _reason(response)
                else:
                    exchange.error = classify(_exception(response.error), self.host or "", self.deadline, False)
                outcome = delivered(exchange, self.checks)
                answer = "200 OK" if outcome.passed else answer_text(exchange)
                if outcome.passed:
                    response.success()
                else:
                    response.failure(answer)
        except _Deadline:
            # gevent's timer ends the whole request (the load's delivery path): how far the answer got is not known
            answer = outputs.DEADLINE.format(self.deadline)
            exchange.elapsed = time.time() - started
            exchange.error = TransportError("deadline", answer)
            outcome = delivered(exchange, self.checks)
            self.environment.events.request.fire(
                request_type="POST",
                name="callback",
                response_time=exchange.elapsed * 1000,
                response_length=0,
                exception=TimeoutError(answer),
                context={},
            )
        finally:
            self.timeout.cancel()
        TALLY.add(started, answer, outcome.passed)
        return outcome.passed


def _reason(response: Any) -> str:
    try:
        return str(response._response.status_message or "")
    except AttributeError:
        return ""


def _exception(error: Any) -> BaseException:
    """What the client raised, for the transport-error classifier (a connection closed without a word: said so)."""
    if isinstance(error, BaseException):
        return error
    return RemoteDisconnected("the connection closed without an answer")


def _users(options: Any) -> int:
    """The users (connections) that send --dlr-rate."""
    return users(options.dlr_rate, options.dlr_connections, options.dlr_processes)


REPORT_LAG = 4.0  # seconds a master waits for its workers' counts of a step (they report every 3 s)


class Steps(LoadTestShape):
    """The rate over time: one step for the duration, or with --ramp a step up every --step seconds."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        if options is None:
            return None
        run_time = float(self.get_run_time())  # type: ignore[no-untyped-call]
        if run_time >= options.dlr_duration:
            return None
        now = time.time()
        if options.dlr_ramp:
            lag = REPORT_LAG if isinstance(self.runner, MasterRunner) else 0.0
            for step in STEPS:
                if "held" not in step and now >= step["started"] + options.dlr_step + lag:
                    judged = outputs.window(
                        TALLY.seconds, step["started"] + 1, step["started"] + options.dlr_step, step["rate"]
                    )
                    step["held"] = judged.held
                    if not judged.held:
                        return None
        index = int(run_time // options.dlr_step) if options.dlr_ramp else 0
        while len(STEPS) <= index:
            STEPS.append(
                {"rate": options.dlr_rate * (len(STEPS) + 1), "started": now - (run_time - index * options.dlr_step)}
            )
        users = _users(options) * (index + 1)
        return users, float(users)


def _started(environment: Environment, **_: Any) -> None:
    _START.setdefault("at", time.time())
    options = environment.parsed_options
    if options is not None and not isinstance(environment.runner, MasterRunner):
        _templates(options)
    if options is not None and not isinstance(environment.runner, WorkerRunner):
        LEDGER.path = options.dlr_ledger
    if options is not None and not isinstance(environment.runner, MasterRunner) and "sampler" not in _START:
        _START["sampler"] = 1.0
        gevent.spawn(_sample)
    if options is not None and not isinstance(environment.runner, WorkerRunner) and "progress" not in _START:
        _START["progress"] = 1.0
        gevent.spawn(_progress, float(options.dlr_duration))


def _sample() -> None:
    """Every second, how much of it this sending process ran on a core or waited for one: near all of it means
    the rate it could not send was this machine's limit, not the receiver's (``outputs.generator``)."""
    wall, cpu = time.time(), _cpu_demand()
    while True:
        gevent.sleep(1.0)
        now, used = time.time(), _cpu_demand()
        slot = TALLY.busy[int(wall)]
        slot[0] = max(slot[0], round((used - cpu) / (now - wall), 3))
        wall, cpu = now, used


def _cpu_demand() -> float:
    """Seconds this thread ran on a core or waited in the run queue for one (Linux's schedstat; elsewhere the CPU
    time alone): on a machine shared with other work a starved process runs less than it wants, and only the wait
    tells it from an idle one."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as file:
            ran, waited = file.read().split()[:2]
        return (int(ran) + int(waited)) / 1e9
    except (OSError, ValueError):
        return time.process_time()


def _progress(duration: float) -> None:
    """A plain line every PROGRESS seconds while the load runs (Locust prints its tables only at the end)."""
    while True:
        gevent.sleep(PROGRESS)
        elapsed = time.time() - _START["at"]
        if elapsed > duration + PROGRESS:
            return
        seconds = TALLY.seconds
        sent = sum(ok + failed for ok, failed in seconds.values())
        failed = sum(f for _, f in seconds.values())
        recent = [sum(seconds.get(s, (0, 0))) for s in range(int(time.time()) - 6, int(time.time()) - 1)]
        print(
            f"dlr-conformance load: {sent:,} callbacks, {failed:,} failed, {sum(recent) / 5:,.0f}/s now, "
            f"elapsed {elapsed:.0f}s of {duration:.0f}s",
            flush=True,
        )


def _send_counts(client_id: str, data: dict[str, Any]) -> None:
    data["dlr"] = TALLY.export()
    data["dlr_ledger"] = LEDGER.drain()


def _merge(client_id: str, data: dict[str, Any]) -> None:
    if "dlr" in data:
        TALLY.merge(data["dlr"])
    if data.get("dlr_ledger"):
        LEDGER.extend(data["dlr_ledger"])


def _write(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or isinstance(environment.runner, WorkerRunner) or not options.dlr_json:
        return
    LEDGER.flush()
    interrupted = bool(options.dlr_interrupted) and os.path.exists(options.dlr_interrupted)
    stats = environment.runner.stats.total if environment.runner else None
    result = outputs.summarise(
        options,
        TALLY,
        STEPS,
        stats,
        started=_START.get("at", time.time()),
        interrupted=interrupted,
    )
    outputs.write(result, options.dlr_json, options.dlr_junit)


for _hook, _listener in (
    (events.init_command_line_parser, _options),
    (events.test_start, _started),
    (events.report_to_master, _send_counts),
    (events.worker_report, _merge),
    (events.quitting, _write),
):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]  # Locust's EventHook is untyped
