"""``dlr-conformance send``: fire callbacks at a receiver exactly as the platform delivers them, with its retries.

What is sent: one realistic, valid callback with fresh ids (its ``api_job_id`` tagged with the run id), shaped by
``--status``, ``--type``, ``--records``, ``--message-id``, ``--client-job-id`` and ``--client-message-id``; or a
short sequence of them (``--sequence``); or the payloads of a file (``--payload FILE``, ``-`` for standard input:
one JSON document, or JSON Lines such as a ``serve --record`` capture), sent in order. Payloads are checked
against the contract first; the first problem stops the command with exit 4, in ``validate``'s words.

Each callback is delivered like the platform: POST, certificates verified, no redirects, a deadline per attempt;
each answer is judged as the suite judges it (:mod:`conformance.engine.judge`): anything but ``200 OK`` (or no
answer at all) is a failed attempt, retried ``--retry-interval`` seconds later, up to ``--attempts`` attempts in
all (:data:`conformance.delivery.sender.PLATFORM_RETRY`), then the report is discarded.
One line per attempt as it happens, and one line at the end of each callback: ``delivered on attempt K`` or
``discarded after N attempts: the platform would lose this report``.

Exit codes: 0 every callback delivered, 1 any discarded, 2 interrupted (Ctrl-C, at once, also while waiting),
3 internal error, 4 usage error.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance import __version__
from conformance import options as opts
from conformance.checks.answers import Outcome
from conformance.cli.validate import STDIN, documents, read_input, read_problem
from conformance.contract.schema import errors
from conformance.delivery.sender import PLATFORM_RETRY, DeliveryConfig, Exchange, Sender, encode
from conformance.engine.judge import answer_text, context, delivered
from conformance.engine.ledger import prepare_records
from conformance.engine.store import CommandPreparer, CommandReader, StateCommandError
from conformance.options import ExitCode

__all__ = ["Attempt", "Delivery", "build_sequence", "deliver", "main", "realistic_callback"]

PROG = "dlr-conformance send"
SEQUENCES = ("progression", "out-of-order", "duplicate")
_NEVER = 2**62  # the suite's "target unreachable" breaker must not cut the platform's attempts short


class _Usage(Exception):
    """A usage error: one line, exit code 4."""


# -- what is sent ---------------------------------------------------------------------------------------------
def realistic_callback(
    run_id: str,
    *,
    status: str = "DELIVRD",
    type_: str = "SMS",
    records: int = 1,
    message_id: str | None = None,
    client_job_id: str | None = None,
    client_message_id: str | None = None,
    micro_timestamp: int | None = None,
) -> dict[str, Any]:
    """A valid callback as the platform sends one: fresh ids, the api_job_id tagged with ``run_id``, now's time."""
    micro = micro_timestamp if micro_timestamp is not None else time.time_ns() // 1000
    first = 10**19 + secrets.randbelow(8 * 10**19)  # 20 digits, like the documented example's message id
    data = []
    for i in range(records):
        record: dict[str, Any] = {
            "type": type_,
            "message_id": message_id if message_id is not None else str(first + i),
            "status": status,
            "timestamp": micro // 1000,  # milliseconds, as the documented example (not seconds, as its text says)
            "micro_timestamp": micro,
            "to": f"3569912{(first + i) % 10**4:04d}",
            "from": "Fortytwo",
            "error_code": 0,
        }
        if client_message_id is not None:
            record["client_message_id"] = client_message_id
        data.append(record)
    body: dict[str, Any] = {"api_job_id": f"dlrc-{run_id}-{uuid.uuid4()}"}
    if client_job_id is not None:  # "if this field was not supplied, it will not be returned here either"
        body["client_job_id"] = client_job_id
    body["data"] = data
    return body


def _restamped(callback: dict[str, Any], status: str, micro: int) -> dict[str, Any]:
    data = [{**r, "status": status, "timestamp": micro // 1000, "micro_timestamp": micro} for r in callback["data"]]
    return {**callback, "data": data}


def build_sequence(name: str, callback: dict[str, Any], final: str = "DELIVRD") -> list[tuple[str, dict[str, Any]]]:
    """The callbacks of a named sequence for the messages of ``callback``, with a label each."""
    micro = callback["data"][0]["micro_timestamp"]
    if name == "progression":  # one second apart, in order
        steps = [("ACCEPTD", micro - 2_000_000), ("ENROUTE", micro - 1_000_000), (final, micro)]
        return [(f"{s} ({i + 1} of 3, in order)", _restamped(callback, s, t)) for i, (s, t) in enumerate(steps)]
    if name == "out-of-order":  # the final status first, then the older intermediate one
        return [
            (f"{final} (the newest report, first)", _restamped(callback, final, micro)),
            ("ENROUTE (an older report, arriving late)", _restamped(callback, "ENROUTE", micro - 1_000_000)),
        ]
    status = callback["data"][0]["status"]
    return [(f"{status} (the original)", callback), (f"{status} (the same callback again, as a retry)", callback)]


# -- how it is delivered --------------------------------------------------------------------------------------
@dataclass
class Attempt:
    """One attempt: when, which, and the answer or why there was none, as judged; when the next attempt is due."""

    number: int
    of: int
    at: float
    exchange: Exchange
    outcome: Outcome
    next_in: float | None = None  # seconds from the end of this attempt to the next one; None: no next attempt

    @property
    def delivered(self) -> bool:
        """True when the platform counts this attempt as a delivery (the checks passed)."""
        return self.outcome.passed

    @property
    def next_at(self) -> float | None:
        """When the next attempt is due (epoch seconds), if there is one."""
        return None if self.next_in is None else self.at + self.exchange.elapsed + self.next_in

    @property
    def answer(self) -> str:
        """The status and reason phrase with the latency, or the cause in plain words."""
        e = self.exchange
        if e.error is not None:
            return answer_text(e)
        latency = f"{e.elapsed * 1000:.0f} ms" if e.elapsed < 1 else f"{e.elapsed:.2f} s"
        verdict = "" if self.delivered else " (not 200: a failed attempt)"
        return f"{answer_text(e)} in {latency}{verdict}"

    def line(self) -> str:
        """The console line of this attempt."""
        text = f"{_clock(self.at)} attempt {self.number} of {self.of}: {self.answer}"
        if self.next_at is not None:
            text += f"; next attempt at {_clock(self.next_at)} (in {self.next_in:g} s)"
        return text

    def as_json(self) -> dict[str, Any]:
        """This attempt in ``--json`` output."""
        e = self.exchange
        return {
            "attempt": self.number,
            "of": self.of,
            "time": _iso(self.at),
            "status": e.status if e.error is None else None,
            "reason": e.reason if e.error is None else None,
            "latency_s": round(e.elapsed, 6),
            "cause": None if e.error is None else e.error.reason,
            "delivered": self.delivered,
            "next_attempt_at": None if self.next_at is None else _iso(self.next_at),
        }


@dataclass
class Delivery:
    """One callback and its attempts."""

    label: str
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)
    of: int = 0

    @property
    def delivered(self) -> bool:
        """True when an attempt was answered 200."""
        return any(a.delivered for a in self.attempts)

    def result(self) -> str:
        """The end line: delivered on attempt K, or discarded after N attempts."""
        if self.delivered:
            return f"delivered on attempt {len(self.attempts)}"
        if len(self.attempts) < self.of:
            return f"interrupted after {len(self.attempts)} of {self.of} attempts"
        return f"discarded after {self.of} attempts: the platform would lose this report"

    def as_json(self) -> dict[str, Any]:
        """This callback in ``--json`` output."""
        try:
            payload: Any = json.loads(self.body)
        except ValueError:
            payload = self.body.decode("utf-8", "replace")
        return {
            "callback": self.label,
            "payload": payload,
            "attempts": [a.as_json() for a in self.attempts],
            "delivered": self.delivered,
            "result": self.result(),
        }


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _describe(body: bytes) -> str:
    """``api_job_id X, message M STATUS, ...`` for the header line of a callback."""
    try:
        payload = json.loads(body)
        records = [f"message {r.get('message_id')} {r.get('status')}" for r in payload["data"][:3]]
        more = f" and {len(payload['data']) - 3} more" if len(payload["data"]) > 3 else ""
        return f"api_job_id {payload.get('api_job_id')}, {', '.join(records)}{more}"
    except (ValueError, TypeError, KeyError, AttributeError):
        return f"{len(body)} bytes that are not a callback"


# -- the command ----------------------------------------------------------------------------------------------
def _parser() -> opts.UsageParser:
    minutes = PLATFORM_RETRY.interval / 60
    survivable = PLATFORM_RETRY.outage_survived / 60
    attempts = PLATFORM_RETRY.attempts
    parser = opts.UsageParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Send callbacks to a receiver exactly as the platform does, following its retry policy.",
        epilog=f"""\
Retries: a callback answered anything but 200 OK, or not answered, is attempted again --retry-interval
seconds later, then discarded. The platform's documentation ("After three failed attempts, with an interval of
5 minutes between them, the callback is discarded") reads as 3 attempts in all, or as 3 retries after the first
(4 attempts). The default takes the first reading, the harder one for a receiver: with {attempts} attempts {minutes:g}
minutes apart, a report survives an outage of at most {survivable:g} minutes (from the first attempt to the
last); with 4 attempts (--attempts 4), 15 minutes. Plan for {survivable:g}.

The developer loop, in three commands:
  dlr-conformance serve --port 8080 --record capture.jsonl     # a receiver that prints what arrives
  dlr-conformance send http://127.0.0.1:8080/dlr --sequence out-of-order --retry-interval 1
  dlr-conformance validate capture.jsonl                        # does what arrived match the contract?

Exit codes: 0 every callback delivered, 1 any discarded, 2 interrupted, 3 internal error, 4 usage error.""",
    )
    parser.add_argument("url", nargs="?", type=opts.target_url, help="the receiver's callback URL")
    opts.TARGET_URL.add_to(parser, otherwise="or give it as the URL argument")
    what = parser.add_argument_group("what is sent (default: one realistic DELIVRD callback with fresh ids)")
    what.add_argument("--status", help="the records' status, any string (default: DELIVRD)")
    what.add_argument("--type", dest="type_", metavar="TYPE", default="SMS", help="the network type (default: SMS)")
    what.add_argument(
        "--records", type=opts.positive_int, default=1, metavar="N", help="records (messages) in the callback"
    )
    what.add_argument("--message-id", metavar="ID", help="the message id (default: a fresh 20-digit one)")
    what.add_argument("--client-job-id", metavar="TEXT", help="client_job_id (default: absent)")
    what.add_argument("--client-message-id", metavar="TEXT", help="client_message_id (default: absent)")
    what.add_argument(
        "--sequence",
        choices=SEQUENCES,
        help="progression: ACCEPTD, ENROUTE, then --status (DELIVRD) for the same message, in order; out-of-order: "
        "DELIVRD, then the older ENROUTE; duplicate: the same callback twice, as a retry",
    )
    what.add_argument(
        "--payload",
        metavar="FILE",
        help="send the payloads of FILE instead (- reads standard input): one JSON document, or JSON Lines such "
        "as a serve --record capture, sent in order",
    )
    what.add_argument(
        "--no-validate",
        action="store_true",
        help="send payloads that break the contract too (a deliberate experiment)",
    )
    how = parser.add_argument_group("how it is delivered")
    how.add_argument(
        "--attempts",
        type=opts.positive_int,
        default=PLATFORM_RETRY.attempts,
        metavar="N",
        help=f"attempts in all before a callback is discarded (default: {PLATFORM_RETRY.attempts}; see below)",
    )
    how.add_argument(
        "--retry-interval",
        type=opts.non_negative_float,
        default=PLATFORM_RETRY.interval,
        metavar="S",
        help=f"seconds between attempts (default: {PLATFORM_RETRY.interval:g}, the platform's; less for a quick look)",
    )
    opts.TIMEOUT.add_to(how)
    opts.HEADER.add_to(how)
    opts.CA_BUNDLE.add_to(how)
    state = opts.add_state_reader(
        parser,
        "what the receiver stored, after delivery",
        "its rows for the messages sent are shown after delivery",
        "deadline in seconds of the reader and of the preparer (default: 10)",
    )
    opts.PREPARE_CMD.add_to(
        state, otherwise="the messages are created in the receiver's store before the first callback"
    )
    parser.add_argument("--json", action="store_true", help="print the attempts as one JSON document, for scripts")
    return parser


def _from_file(name: str, validate: bool) -> list[tuple[str, bytes]]:
    try:
        data = read_input(name)
    except OSError as exc:
        raise _Usage(f"cannot read {name!r}: {read_problem(exc)}") from None
    out = []
    for document in documents(STDIN if name == "-" else name, data):
        if validate:
            if document.malformed is not None:
                raise _Usage(f"{document.label}: {document.malformed}")
            problems = errors(document.payload)
            if problems:
                raise _Usage(f"{document.label}: {problems[0]}")
        body = document.raw if document.malformed is not None else encode(document.payload)
        out.append((document.label, body))
    return out


def _callbacks(ns: argparse.Namespace, run_id: str) -> list[tuple[str, bytes]]:
    """What to send, in order, with a label each; raises :class:`_Usage`."""
    shaped = (
        [
            flag
            for flag, value in (
                ("--status", ns.status),
                ("--message-id", ns.message_id),
                ("--client-job-id", ns.client_job_id),
                ("--client-message-id", ns.client_message_id),
                ("--sequence", ns.sequence),
            )
            if value is not None
        ]
        + (["--records"] if ns.records != 1 else [])
        + (["--type"] if ns.type_ != "SMS" else [])
    )
    if ns.payload is not None:
        if shaped:
            raise _Usage(f"{shaped[0]} shapes the generated callback; it cannot be combined with --payload")
        return _from_file(ns.payload, validate=not ns.no_validate)
    if ns.message_id is not None and ns.records > 1:
        raise _Usage("--message-id names one message; give it with --records 1")
    callback = realistic_callback(
        run_id,
        status=_status(ns),
        type_=ns.type_,
        records=ns.records,
        message_id=ns.message_id,
        client_job_id=ns.client_job_id,
        client_message_id=ns.client_message_id,
    )
    labelled = build_sequence(ns.sequence, callback, _status(ns)) if ns.sequence else [("", callback)]
    if not ns.no_validate:
        for _, payload in labelled:
            problems = errors(payload)
            if problems:
                raise _Usage(f"the callback to send: {problems[0]}")
    return [(label, encode(payload)) for label, payload in labelled]


class _Printer:
    """Console lines as they happen (secrets masked), or nothing until the JSON document at the end."""

    def __init__(self, sender: Sender, as_json: bool) -> None:
        self._mask = sender.redactor.mask
        self._quiet = as_json

    def __call__(self, text: str) -> None:
        if not self._quiet:
            print(self._mask(text), flush=True)


def deliver(sender: Sender, delivery: Delivery, interval: float, emit: _Printer | None = None) -> Delivery:
    """Deliver one callback with the platform's retries, recording each attempt in ``delivery`` as it ends."""
    checks = context(sender.config.url, sender.config.timeout)
    for number in range(1, delivery.of + 1):
        at = time.time()
        exchange = sender.deliver(delivery.body, label=delivery.label)
        outcome = delivered(exchange, checks)
        last = outcome.passed or number == delivery.of
        attempt = Attempt(number, delivery.of, at, exchange, outcome, None if last else interval)
        delivery.attempts.append(attempt)
        if emit is not None:
            emit(attempt.line())
        if last:
            break
        time.sleep(max(0.0, (attempt.next_at or 0) - time.time()))  # Ctrl-C ends the wait at once
    return delivery


def main(argv: list[str]) -> int:
    """Run ``dlr-conformance send``; returns the exit code."""
    ns = _parser().parse_args(argv)
    if ns.url and ns.dlr_target_url:
        return _usage("give the URL once, as an argument or as --target-url")
    try:
        url = opts.TARGET_URL.resolve(ns.url or ns.dlr_target_url)
        state_cmd = opts.STATE_CMD.resolve(ns.dlr_state_cmd)
        prepare_cmd = opts.PREPARE_CMD.resolve(ns.dlr_prepare_cmd)
    except argparse.ArgumentTypeError as exc:
        return _usage(str(exc))
    if not url:
        return _usage(f"give the receiver's callback URL, e.g. {PROG} http://127.0.0.1:8080/dlr")
    run_id = secrets.token_hex(4)
    try:
        callbacks = _callbacks(ns, run_id)
    except _Usage as exc:
        return _usage(str(exc))
    config = DeliveryConfig(
        url,
        timeout=ns.dlr_timeout,
        headers=tuple(ns.dlr_headers or ()),
        ca_bundle=ns.dlr_ca_bundle,
        user_agent=f"dlr-conformance/{__version__} (conformance test run {run_id})",
        unreachable_after=_NEVER,
    )
    sender = Sender(config)
    for command in (state_cmd, prepare_cmd):
        if command:
            sender.redactor.add_command(command)  # it often holds a database password
    emit = _Printer(sender, ns.json)
    if prepare_cmd:
        try:
            _prepare(prepare_cmd, ns.state_timeout, run_id, callbacks, emit)
        except StateCommandError as exc:
            sender.close()
            return _usage(sender.redactor.mask(f"--prepare-cmd: {str(exc).rstrip('.')} (nothing was sent)"))
    deliveries: list[Delivery] = []
    interrupted = False
    emit(
        f"sending {len(callbacks)} callback{'s' * (len(callbacks) != 1)} to {sender.redactor.mask_url(url)} "
        f"(run {run_id}): up to {ns.attempts} attempt{'s' * (ns.attempts != 1)} each, {ns.retry_interval:g} s apart"
    )
    try:
        for i, (label, body) in enumerate(callbacks, start=1):
            emit(f"callback {i} of {len(callbacks)}{': ' + label if label else ''}: {_describe(body)}")
            deliveries.append(Delivery(label, body, of=ns.attempts))  # filled as it goes: kept if Ctrl-C comes
            deliver(sender, deliveries[-1], ns.retry_interval, emit)
            emit(deliveries[-1].result())
    except KeyboardInterrupt:
        interrupted = True
        sender.stop()
    finally:
        sender.close()
    stored: list[dict[str, Any]] | None = None
    if state_cmd and not interrupted:
        try:
            stored = _read_state(state_cmd, ns.state_timeout, run_id, deliveries, emit)
        except StateCommandError as exc:
            print(sender.redactor.mask(f"{PROG}: error: could not read the stored state: {exc}."), file=sys.stderr)
            return ExitCode.ERROR
        except KeyboardInterrupt:
            interrupted = True
    if ns.json:
        document = {
            "target": sender.redactor.mask_url(url),
            "run_id": run_id,
            "attempts": ns.attempts,
            "retry_interval_s": ns.retry_interval,
            "callbacks": [d.as_json() for d in deliveries],
            "delivered": not interrupted and all(d.delivered for d in deliveries),
            "interrupted": interrupted,
        }
        if stored is not None:
            document["stored"] = stored
        print(sender.redactor.mask(json.dumps(document, indent=2, ensure_ascii=False)), flush=True)
    if interrupted:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    return ExitCode.OK if all(d.delivered for d in deliveries) else ExitCode.FAILED


def _usage(message: str) -> int:
    print(f"{PROG}: error: {message}.", file=sys.stderr)
    return ExitCode.USAGE


def _prepare(command: str, timeout: float, run_id: str, callbacks: list[tuple[str, bytes]], emit: _Printer) -> None:
    """Have the preparer create every message of ``callbacks``, in one call, before the first is sent."""
    messages: dict[str, dict[str, Any]] = {}
    for _, body in callbacks:
        try:
            payload = json.loads(body)
        except ValueError:
            continue
        for message in prepare_records(payload):
            messages.setdefault(message["message_id"], message)
    started = time.monotonic()
    CommandPreparer(command, timeout)(run_id, list(messages.values()))
    count = len(messages)
    emit(f"prepared: {count} message{'s' * (count != 1)} created by the preparer in {time.monotonic() - started:.1f} s")


def _read_state(
    command: str, timeout: float, run_id: str, deliveries: list[Delivery], emit: _Printer
) -> list[dict[str, Any]]:
    """The reader's rows for the messages sent, each shown on one line (and one line per message it does not know)."""
    message_ids: list[str] = []
    api_job_ids: list[str] = []
    for delivery in deliveries:
        try:
            payload = json.loads(delivery.body)
            records = [r for r in payload["data"] if isinstance(r, dict)]
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(payload.get("api_job_id"), str) and payload["api_job_id"] not in api_job_ids:
            api_job_ids.append(payload["api_job_id"])
        message_ids += [
            str(r["message_id"]) for r in records if "message_id" in r and str(r["message_id"]) not in message_ids
        ]
    request = {"run_id": run_id, "message_ids": message_ids, "api_job_ids": api_job_ids}
    rows = [r for r in CommandReader(command, timeout)(request) if r["message_id"] in message_ids]
    known = {r["message_id"] for r in rows}
    for row in rows:
        emit(f"stored: {json.dumps(row, ensure_ascii=False)}")
    for message_id in message_ids:
        if message_id not in known:
            emit(f"stored: message {message_id}: the reader returned no row (the receiver does not know it)")
    return rows


def _status(ns: argparse.Namespace) -> str:
    return "DELIVRD" if ns.status is None else str(ns.status)
