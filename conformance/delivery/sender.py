"""Delivering callbacks exactly as the platform does, and nothing more.

POST, ``Content-Type: application/json; charset=utf-8``, a UTF-8 JSON body, certificates verified (a TLS
failure is a failed callback), redirects never followed (a 3xx is a failed callback), a User-Agent naming the
tool and the run. Beyond the platform, for a tool pointed at endpoints it does not control:

* a deadline for the *whole* request, name resolution and connecting included. ``requests``' read timeout
  applies to each socket read, so a server trickling one byte a second never trips it; a watchdog thread shuts
  down the socket of any delivery still running at its deadline, which makes the blocked read fail at once.
  Name resolution runs in a helper thread that is waited for only until the deadline, and names under the
  reserved ``.invalid`` domain fail at once without a lookup (RFC 6761);
* response bodies are read raw (no decompression); only the first ``body_cap`` bytes are kept, the rest is read
  and dropped until the body ends, so an endless body cannot exhaust memory and ends at the deadline, while a
  large finite one is a complete answer (the platform ignores the body);
* after a few consecutive deliveries without a usable answer (a transport failure, a deadline) the target counts
  as unreachable and the remaining deliveries fail at once instead of each waiting out its deadline;
* an optional rate limit that holds in every one-second window across all threads, measured where it matters:
  at the target (see :class:`RateLimiter`);
* :meth:`Sender.stop` (on Ctrl-C) aborts the deliveries in flight and makes later ones fail at once.

The deadline transport is ``transport.py``, the rate limit ``ratelimit.py``, the plain-words causes ``causes.py``;
checks judge this module's :class:`Exchange` records.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from conformance.contract.schema import encode
from conformance.delivery.errors import TransportError, classify
from conformance.delivery.masking import Redactor
from conformance.delivery.ratelimit import RateLimiter
from conformance.delivery.transport import WATCHDOG, Adapter, Deadline, current

__all__ = [
    "BODY_CAP",
    "CONTENT_TYPE",
    "PLATFORM_RETRY",
    "PLATFORM_RETRY_MOST",
    "DeliveryConfig",
    "Exchange",
    "RateLimiter",
    "RetryPolicy",
    "Sender",
    "TransportError",
    "classify",
    "encode",
]

CONTENT_TYPE = "application/json; charset=utf-8"
BODY_CAP = 64 * 1024
UNREACHABLE_AFTER = 3
# The socket read timeout backs up the watchdog; it is a little longer so that the watchdog, which knows how far
# the answer got, is the one that reports a deadline.
READ_TIMEOUT_SLACK = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How the platform retries a callback it counted as failed: ``attempts`` in all, ``interval`` seconds apart."""

    attempts: int
    interval: float

    @property
    def outage_survived(self) -> float:
        """Seconds from the first attempt to the last: an outage longer than this loses the report."""
        return (self.attempts - 1) * self.interval


# "After three failed attempts, with an interval of 5 minutes between them, the callback is discarded" reads as 3
# attempts in all (the first and 2 retries: 10 minutes from first to last) or as 3 retries after the first (4
# attempts: 15 minutes). A receiver can count on neither more outage nor fewer copies, so each side takes the
# reading that is harder on the receiver: ``send`` gives up after the fewer attempts (PLATFORM_RETRY), and the
# suite's duplicate scenario delivers the most copies (PLATFORM_RETRY_MOST).
PLATFORM_RETRY = RetryPolicy(attempts=3, interval=300.0)
PLATFORM_RETRY_MOST = RetryPolicy(attempts=4, interval=300.0)


@dataclass(frozen=True)
class DeliveryConfig:
    """How to reach the target: URL, deadline, extra headers, CA bundle, rate limit."""

    url: str
    timeout: float = 10.0
    headers: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    max_rps: float | None = None
    user_agent: str = "dlr-conformance"
    body_cap: int = BODY_CAP
    unreachable_after: int = UNREACHABLE_AFTER


@dataclass
class Exchange:
    """One delivery: the request sent and what came back (or why nothing did)."""

    body: bytes
    started: float
    elapsed: float = 0.0
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    truncated: bool = False  # the body was longer than the cap: only its start is kept
    body_size: int = 0  # bytes of the response body read in all
    error: TransportError | None = None
    label: str = ""
    forged: Forged | None = None  # sent there instead: the run's credentials left out or altered

    @property
    def ok(self) -> bool:
        """True for a complete answer with status 200."""
        return self.error is None and self.status == 200

    def payload(self) -> Any:
        """The request body decoded back to JSON."""
        return json.loads(self.body)


# -- the sender -----------------------------------------------------------------------------------------------
def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that changes nothing, so that the URL's userinfo does not replace an explicit header."""
    return request


def _explicit_auth(headers: Iterable[tuple[str, str]]) -> bool:
    return any(name.lower() == "authorization" for name, _ in headers)


class Forged(Protocol):
    """Where a forged request goes instead: the target's URL and extra headers, credentials left out or altered."""

    @property
    def url(self) -> str: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...


class Sender:
    """Delivers callback bodies to one target, from any number of threads, as the platform would."""

    def __init__(
        self,
        config: DeliveryConfig,
        *,
        redactor: Redactor | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.config = config
        self.redactor = redactor or Redactor.for_target(config.url, config.headers)
        self._on_exchange = on_exchange
        self._limiter = RateLimiter(config.max_rps) if config.max_rps else None
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._in_flight: set[Deadline] = set()
        self._consecutive_failures = 0
        self._last_failure: str | None = None
        self.requests_sent = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        # An explicit Authorization header wins over the URL's userinfo (as with curl -H and -u); otherwise
        # requests turns the userinfo into Basic credentials, as the platform presumably does.
        self._auth: Callable[[requests.PreparedRequest], requests.PreparedRequest] | None = (
            _keep_headers if _explicit_auth(config.headers) else None
        )
        self.headers = self._headers(config.headers)

    def _headers(self, extra: Iterable[tuple[str, str]]) -> dict[str, str]:
        return {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": self.config.user_agent,
            "Accept": "*/*",
            **dict(extra),
        }

    # -- sessions -------------------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies, no .netrc: straight to the target, like the platform
            adapter = Adapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.verify = self.config.ca_bundle or True
            session.headers.clear()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def stop(self) -> None:
        """Abort the deliveries in flight and make every later one fail at once (the run is interrupted)."""
        self._stopped.set()
        with self._lock:
            in_flight = list(self._in_flight)
        WATCHDOG.fire_now(in_flight)

    def close(self) -> None:
        """Close every connection and the worker threads (deliveries not started yet are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    @property
    def unreachable(self) -> TransportError | None:
        """The reason the target counts as unreachable, or None while it answers."""
        if self._consecutive_failures >= self.config.unreachable_after:
            return TransportError(
                "unreachable",
                f"not sent: the target is unreachable ({self.config.unreachable_after} deliveries in a row got no "
                f"usable answer, the last: {self._last_failure or 'unknown'})",
            )
        return None

    def _not_sending(self) -> TransportError | None:
        if self._stopped.is_set():
            return TransportError("interrupted", "not sent: the run was interrupted")
        return self.unreachable

    # -- delivery -------------------------------------------------------------------------------------------
    def deliver(self, payload: Any, *, label: str = "", forged: Forged | None = None) -> Exchange:
        """POST one callback body and record the answer (never raises for what the target does).

        ``forged``: to another URL of the target, with other extra headers (a forged request: credentials left out
        or altered), under the same rate limit and counted with the others."""
        body = encode(payload)
        slot = None
        skipped = self._not_sending()
        if skipped is None and self._limiter is not None:
            slot = self._limiter.acquire(lambda: self._not_sending() is not None)
            skipped = self._not_sending()
            if skipped is not None and slot is not None:
                self._limiter.release(slot, sent=False)
        if skipped is not None:
            exchange = Exchange(body=body, started=time.time(), error=skipped, label=label)
            self._record(exchange)
            return exchange
        try:
            exchange = self._post(body, label, forged)
        finally:
            if slot is not None and self._limiter is not None:
                self._limiter.release(slot)
        self._count(exchange)
        self._record(exchange)
        return exchange

    def _post(self, body: bytes, label: str, forged: Forged | None = None) -> Exchange:
        exchange = Exchange(body=body, started=time.time(), label=label, forged=forged)
        url, headers, auth = self.config.url, self.headers, self._auth
        if forged is not None:
            url, headers = forged.url, self._headers(forged.headers)
            auth = _keep_headers if _explicit_auth(forged.headers) else None
        timeout = self.config.timeout
        deadline = Deadline(time.monotonic() + timeout)
        current.deadline = deadline
        with self._lock:
            self.requests_sent += 1
            self._in_flight.add(deadline)
        WATCHDOG.watch(deadline)
        start = time.perf_counter()
        phase = "answer"
        response: requests.Response | None = None
        complete = False
        try:
            response = self._session().post(
                url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout + READ_TIMEOUT_SLACK),
                allow_redirects=False,
                stream=True,
                auth=auth,
            )
            # headers cut short by the watchdog end early, so only count them complete if it had not fired yet
            phase = "answer" if deadline.fired else "body"
            exchange.status = response.status_code
            exchange.reason = response.reason or ""
            exchange.headers = dict(response.headers)
            exchange.response_body, exchange.body_size = self._read_body(response)
            exchange.truncated = exchange.body_size > len(exchange.response_body)
            complete = not deadline.fired
        except Exception as exc:  # whatever the transport raised becomes a recorded outcome
            exchange.error = classify(exc, self.config.url, timeout, deadline.fired, phase=phase)
        finally:
            exchange.elapsed = time.perf_counter() - start
            WATCHDOG.forget(deadline)
            current.deadline = None
            with self._lock:
                self._in_flight.discard(deadline)
            if response is not None and (deadline.fired or not complete):
                response.close()  # a connection shut down or left mid-body is never reused
        if exchange.error is None and deadline.fired:
            exchange.error = classify(TimeoutError(), self.config.url, timeout, True, phase=phase)
        if exchange.error is not None and self._stopped.is_set():
            exchange.error = TransportError("interrupted", "aborted: the run was interrupted")
        return exchange

    def _read_body(self, response: requests.Response) -> tuple[bytes, int]:
        """The first ``body_cap`` bytes of the body, raw (never decompressed), and its whole size.

        The rest is read and dropped until the body ends: a finite body, however large, is a complete answer; an
        endless one is cut by the watchdog at the deadline (memory stays at the cap either way).
        """
        cap = self.config.body_cap
        data = bytearray()
        size = 0
        while True:
            chunk = response.raw.read(65536, decode_content=False)
            if not chunk:
                break
            size += len(chunk)
            if len(data) < cap:
                data += chunk[: cap - len(data)]
        return bytes(data), size

    def _count(self, exchange: Exchange) -> None:
        """Count deliveries without a usable answer in a row; a complete answer of any status resets the count."""
        if exchange.error is not None and exchange.error.kind == "interrupted":
            return
        with self._lock:
            if exchange.error is not None:
                self._consecutive_failures += 1
                self._last_failure = exchange.error.reason
            else:
                self._consecutive_failures = 0

    def _record(self, exchange: Exchange) -> None:
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def deliver_many(self, payloads: Sequence[Any], *, concurrency: int, label: str = "") -> list[Exchange]:
        """Deliver several bodies at once, at most ``concurrency`` in flight; results in input order."""
        if concurrency <= 1 or len(payloads) <= 1:
            return [self.deliver(p, label=label) for p in payloads]
        pool = self._executor(concurrency)
        return list(pool.map(lambda p: self.deliver(p, label=label), payloads))

    def _executor(self, size: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool_size < size:
                old = self._pool
                self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="dlr-deliver")
                self._pool_size = size
                if old is not None:
                    old.shutdown(wait=False)
            return self._pool

    # -- reproduction ---------------------------------------------------------------------------------------
    def curl(self, body: bytes, *, body_file: str | None = None, forged: Forged | None = None) -> str:
        """A ``curl`` command that repeats this delivery, secrets masked; ``body_file``: read the body from there;
        ``forged``: a forged request's URL and headers."""
        parts = ["curl", "-sS", "-i", "-X", "POST", "--max-time", f"{self.config.timeout:g}"]
        headers = self.headers if forged is None else self._headers(forged.headers)
        for name, value in headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.config.ca_bundle:
            parts += ["--cacert", self.config.ca_bundle]
        data = f"@{body_file}" if body_file else body.decode("utf-8", "replace")
        flag = "--data-raw" if not body_file and data.startswith("@") else "--data-binary"  # a body, not a file name
        parts += [flag, data, self.redactor.mask_url(self.config.url if forged is None else forged.url)]
        return self.redactor.mask(" ".join(shlex.quote(p) for p in parts))


def unique_bodies(exchanges: Iterable[Exchange]) -> int:
    """How many distinct request bodies these exchanges carried."""
    return len({e.body for e in exchanges})
