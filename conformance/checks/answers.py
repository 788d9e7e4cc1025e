"""Checks: plain functions registered by name that judge one :class:`~conformance.delivery.Exchange`.

A check raises a typed :class:`Failure` (an ``AssertionError``) with a fixed title and a message of
``Received:`` / ``Expected:`` lines, or a :class:`Warned` for what is allowed but worth fixing (a slow answer).
The runner collects every failure of an exchange instead of stopping at the first. To add a check: write a
function ``(exchange, context) -> None``, decorate it with ``@check``, and name it in a requirement of
``requirements.py``.

Scenario checks judge what a whole scenario left behind rather than one answer: a function ``(view) -> None``
over a :class:`StateView` (the run's ledger of reports sent and the rows the state reader returned), decorated
with ``@scenario_check`` and named in a requirement's ``scenario_checks``. It raises a :class:`StateFailure`
carrying one :class:`~conformance.state.Problem` per message, or :class:`NotChecked` when the view cannot
decide (the reader gives no ``reports``, say)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

from conformance.contract import schema as contract

# FIXME split module state
from conformance.delivery.sender import Exchange


@dataclass(frozen=True)
class CheckContext:
    """What the checks need to know beyond the exchange."""

    timeout: float
    latency_budget: float
    https: bool


class Failure(AssertionError):
    """A check failed: the receiver does not do what the platform needs."""

    title = "Check failed"

    def __init__(self, received: str, expected: str, *, check: str = "") -> None:
        super().__init__(f"{self.title}\nReceived: {received}\nExpected: {expected}")
        self.received = received
        self.expected = expected
        self.check = check


class WrongSuccessStatus(Failure):
    """201, 202, 204 or another 2xx: a failure for this platform, although many accept any 2xx."""

    title = "Answered with a success status other than 200"


class RedirectAnswer(Failure):
    """A 3xx: the platform does not follow redirects."""

    title = "Answered with a redirect, which the platform does not follow"


class ClientErrorAnswer(Failure):
    """A 4xx: the receiver rejected a valid callback."""

    title = "Rejected the callback with a client error"


class MethodNotAllowedAnswer(ClientErrorAnswer):
    """405: the callback URL does not accept POST."""

    title = "Rejected the callback's method (405): the platform POSTs callbacks"


class ConflictAnswer(ClientErrorAnswer):
    """409: typically a duplicate (a retry) or an out-of-order report refused."""

    title = "Rejected the callback as a conflict (409): duplicates and out-of-order reports are normal"


class TooLargeAnswer(ClientErrorAnswer):
    """413: a body size or record count limit below what the platform may send."""

    title = "Rejected the callback as too large (413)"


class MediaTypeAnswer(ClientErrorAnswer):
    """415: the platform's Content-Type (with its charset) refused."""

    title = "Rejected the callback's content type (415)"


class RateLimited(ClientErrorAnswer):
    """429: the receiver throttles the platform, which only retries and then gives up."""

    title = "Rate-limited the callback (429): the platform does not slow down, it retries and then discards"


class ServerErrorAnswer(Failure):
    """A 5xx: the receiver failed, typically on one aspect of the payload."""

    title = "Failed with a server error"


class UnexpectedStatus(Failure):
    """A status outside 2xx-5xx."""

    title = "Answered with an unexpected status"


class TransportFailure(Failure):
    """No complete HTTP answer: refused, reset, closed, or not HTTP."""

    title = "No complete HTTP answer"


class DeadlineExceeded(TransportFailure):
    """No complete answer within ``--timeout``."""

    title = "No complete answer within the deadline"


class TLSFailure(TransportFailure):
    """The certificate did not validate."""

    title = "TLS certificate validation failed"


class TargetUnreachable(TransportFailure):
    """Skipped: earlier deliveries found the target unreachable."""

    title = "Target unreachable"


class NotAnswered(Failure):
    """A delivery that was not sent (the target already unreachable, the run interrupted) or got no answer: never a
    pass, whatever the requirement's own checks say."""

    title = "No evidence: the delivery was not sent or not answered"


class ContractViolation(Failure):
    """A generated payload breaks the contract: a defect of dlr-conformance, not of the receiver."""

    title = "Generated payload breaks the contract (a defect of dlr-conformance)"


class ForgeryAccepted(Failure):
    """A forged callback (credentials left out or altered) was answered with a 2xx."""

    title = "Accepted a forged callback: anyone who learns the URL can report on your messages"


class Warned(Exception):  # a warning, not an error, by design: no "Error" suffix
    """Allowed, but worth fixing: reported as a warning, does not fail the run."""

    title = "Warning"

    def __init__(self, message: str, *, check: str = "") -> None:
        super().__init__(message)
        self.check = check


class SlowAnswer(Warned):
    """Answered within the deadline but after the latency budget."""

    title = "Slow answer"


class LargeAnswer(Warned):
    """A complete answer whose body is larger than the cap: the platform ignores the body, so it is no failure."""

    title = "Large response body"


@dataclass
class Outcome:
    """Every failure and warning the checks found for one exchange."""

    exchange: Exchange
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Warned] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return not self.failures


CheckFn = Callable[[Exchange, CheckContext], None]


CHECKS: dict[str, CheckFn] = {}


def check(fn: CheckFn) -> CheckFn:
    """Register a check under its function name."""
    CHECKS[fn.__name__] = fn
    return fn


def _status_text(status: int, reason: str) -> str:
    try:
        phrase = reason or HTTPStatus(status).phrase
    except ValueError:
        phrase = reason
    return f"{status} {phrase}".strip()


_PLATFORM = (
    "200 OK; the platform treats any other answer as a failed callback, retries it 3 times 5 minutes apart, "
    "then discards it"
)


# 4xx answers that point at one known mistake: their own title, and what to do instead
_CLIENT_ERRORS: dict[int, tuple[type[ClientErrorAnswer], str]] = {
    405: (MethodNotAllowedAnswer, "accept POST at the callback URL"),
    409: (
        ConflictAnswer,
        "the platform retries a callback it counts as failed, and reports can arrive out of order: "
        "store reports idempotently and answer 200 to a duplicate or an older status",
    ),
    413: (TooLargeAnswer, "a callback may bundle any number of records (no maximum is documented)"),
    415: (MediaTypeAnswer, "accept Content-Type: application/json; charset=utf-8"),
    429: (RateLimited, "do not throttle the platform: a throttled callback is retried 3 times, then lost"),
}


@check
def transport_succeeds(exchange: Exchange, ctx: CheckContext) -> None:
    """A complete HTTP answer arrives within the deadline: no timeout, refusal, reset or TLS failure."""
    error = exchange.error
    if error is None:
        return
    cls: type[Failure] = {
        "deadline": DeadlineExceeded,
        "tls": TLSFailure,
        "unreachable": TargetUnreachable,
    }.get(error.kind, TransportFailure)
    expected = f"a complete HTTP answer within {ctx.timeout:g} s"
    if error.kind == "tls":
        expected = "a certificate that validates (a valid signed certificate must be used)"
    raise cls(error.reason, expected)


@check
def status_code_is_200(exchange: Exchange, ctx: CheckContext) -> None:
    """The answer's status is exactly 200: 201, 202, 204, 3xx, 4xx and 5xx each fail with their own title."""
    status = exchange.status
    if exchange.error is not None or status is None or status == 200:
        return
    received = _status_text(status, exchange.reason)
    if 200 <= status < 300:
        raise WrongSuccessStatus(received, _PLATFORM + " (many platforms accept any 2xx; this one does not)")
    if 300 <= status < 400:
        where = exchange.headers.get("Location") or exchange.headers.get("location")
        raise RedirectAnswer(received + (f" to {where}" if where else ""), _PLATFORM + "; redirects are not followed")
    if 400 <= status < 500:
        cls, hint = _CLIENT_ERRORS.get(status, (ClientErrorAnswer, "a valid callback must not be rejected"))
        raise cls(received, f"{_PLATFORM}; {hint}")
    if 500 <= status < 600:
        raise ServerErrorAnswer(received, _PLATFORM)
    raise UnexpectedStatus(received, _PLATFORM)


@check
def body_within_cap(exchange: Exchange, ctx: CheckContext) -> None:
    """A warning, not a failure: a complete answer with a body past the cap ("The body of the response is ignored").

    Only a body that does not end within the deadline fails a delivery, and ``transport_succeeds`` says so.
    """
    if exchange.error is None and exchange.truncated:
        size = exchange.body_size or len(exchange.response_body)
        raise LargeAnswer(
            f"answered with a {size // 1024} KiB body (kept the first {len(exchange.response_body) // 1024} KiB); "
            "allowed: the platform ignores the body, but reading it costs time on every callback"
        )


@check
def latency_within_budget(exchange: Exchange, ctx: CheckContext) -> None:
    """A warning, not a failure: the answer came after the soft latency budget."""
    if exchange.error is None and exchange.elapsed > ctx.latency_budget:
        raise SlowAnswer(
            f"answered after {exchange.elapsed:.2f} s, over the {ctx.latency_budget:g} s latency budget "
            "(allowed, but a slow receiver risks the platform's timeout and a retry)"
        )


@check
def payload_matches_contract(exchange: Exchange, ctx: CheckContext) -> None:
    """Every payload the tool sends validates against the schema (guards the generator itself)."""
    problems = contract.errors(exchange.payload())
    if problems:
        raise ContractViolation("; ".join(str(p) for p in problems[:3]), "a payload that satisfies the contract")


@check
def certificate_validates(exchange: Exchange, ctx: CheckContext) -> None:
    """Over HTTPS, the certificate validates (a TLS failure is a failed callback); no answer proves nothing."""
    expected = "a certificate that validates (a valid signed certificate must be used)"
    if exchange.error is not None and exchange.error.kind == "tls":
        raise TLSFailure(exchange.error.reason, expected)
    if exchange.error is not None:
        raise NotAnswered(f"{exchange.error.reason}: no TLS handshake completed, so no certificate was seen", expected)


@check
def forged_callback_refused(exchange: Exchange, ctx: CheckContext) -> None:
    """A forged callback (the run's credentials left out or altered) is answered with anything but 2xx."""
    expected = (
        "an answer other than 2xx (401, 403 or 404 all do): the request lacks a credential the receiver was "
        "given, so it may come from anyone who learned the URL"
    )
    if exchange.error is not None:
        raise NotAnswered(f"{exchange.error.reason}: no answer, so no refusal was seen", expected)
    status = exchange.status
    if status is not None and 200 <= status < 300:
        raise ForgeryAccepted(_status_text(status, exchange.reason), expected)


@check
def delivery_answered(exchange: Exchange, ctx: CheckContext) -> None:
    """Every delivery, whatever its requirement: one not sent or not answered is never a pass."""
    if exchange.error is not None:
        raise NotAnswered(exchange.error.reason, "a delivery that was made and answered")


DEFAULT_CHECKS: tuple[str, ...] = (
    "transport_succeeds",
    "status_code_is_200",
    "body_within_cap",
    "latency_within_budget",
)


def run_checks(exchange: Exchange, ctx: CheckContext, names: Iterable[str] = DEFAULT_CHECKS) -> Outcome:
    """Run the named checks on one exchange, collecting every failure and warning."""
    outcome = Outcome(exchange)
    for name in names:
        try:
            CHECKS[name](exchange, ctx)
        except Failure as failure:
            failure.check = failure.check or name
            outcome.failures.append(failure)
        except Warned as warning:
            warning.check = warning.check or name
            outcome.warnings.append(warning)
    if not outcome.failures:
        # never a pass without evidence: whatever the named checks look at, a delivery not sent or not answered
        # shows nothing the receiver did right
        try:
            delivery_answered(exchange, ctx)
        except Failure as failure:
            failure.check = "delivery_answered"
            outcome.failures.append(failure)
    return outcome
