"""Delivering callbacks exactly as the platform does, and nothing more.

POST, ``Content-Type: application/json; charset=utf-8``, a UTF-8 JSON body, certificates verified (a TLS
failure is a failed callback), redirects never followed (a 3xx is a failed callback), a User-Agent naming the
tool and the run. Beyond the platform, for a tool pointed at endpoints it does not control:

* a deadline for the *whole* request. ``requests``' read timeout applies to each socket read, so a server
  trickling one byte a second never trips it; a watchdog thread shuts down the socket of any delivery still
  running at its deadline, which makes the blocked read fail at once;
* response bodies are read up to a cap, so an endless body cannot exhaust memory;
* after a few consecutive transport failures the target is declared unreachable and the remaining deliveries
  fail at once instead of each waiting out its timeout;
* an optional rate limit that holds in every one-second window across all threads.

This module imports nothing else of the project but the redactor; checks judge its :class:`Exchange` records.
"""

from __future__ import annotations

import collections
import json
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from conformance.secrets import Redactor

__all__ = [
    "BODY_CAP",
    "CONTENT_TYPE",
    "DeliveryConfig",
    "Exchange",
    "RateLimiter",
    "Sender",
    "TransportError",
    "encode",
]

CONTENT_TYPE = "application/json; charset=utf-8"
BODY_CAP = 64 * 1024
UNREACHABLE_AFTER = 3


def encode(payload: Any) -> bytes:
    """The request body for ``payload``: compact UTF-8 JSON, non-ASCII characters kept as they are."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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


@dataclass(frozen=True)
class TransportError:
    """Why no complete HTTP answer came back: a kind (``timeout``, ``tls``, ...) and a plain-English reason."""

    kind: str
    reason: str


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
    truncated: bool = False
    error: TransportError | None = None
    label: str = ""

    @property
    def ok(self) -> bool:
        """True for a complete answer with status 200."""
        return self.error is None and self.status == 200

    def payload(self) -> Any:
        """The request body decoded back to JSON."""
        return json.loads(self.body)


class RateLimiter:
    """At most ``rate`` acquisitions in any window of one second, across threads (a sliding window log)."""

    # a margin so that arrivals at the receiver, jittered by the network, also stay within the limit
    WINDOW = 1.05

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"a rate limit must be positive (got {rate!r})")
        self._capacity = max(1, int(rate))
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.WINDOW:
                    self._sent.popleft()
                if len(self._sent) < self._capacity:
                    self._sent.append(now)
                    return
                wait = self.WINDOW - (now - self._sent[0])
            time.sleep(max(wait, 0.001))


class _Watchdog:
    """One daemon thread that shuts down the sockets of deliveries past their deadline."""

    TICK = 0.02

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, _Deadline] = {}
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._lock:
            self._active[id(deadline)] = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dlr-deadline-watchdog", daemon=True)
                self._thread.start()

    def forget(self, deadline: _Deadline) -> None:
        with self._lock:
            self._active.pop(id(deadline), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                expired = [d for d in self._active.values() if d.at <= now and not d.fired]
            for deadline in expired:
                deadline.fire()


class _Deadline:
    """The deadline of one delivery and the sockets it uses."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self.sockets: list[socket.socket] = []

    def add(self, sock: socket.socket | None) -> None:
        if sock is not None and sock not in self.sockets:
            self.sockets.append(sock)
            if self.fired:
                self._shutdown(sock)

    def fire(self) -> None:
        self.fired = True
        for sock in list(self.sockets):
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # The base-class call shuts the file descriptor down without touching an SSL object's state.
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed, or detached by the TLS wrapper


_WATCHDOG = _Watchdog()
_current = threading.local()


def _track(sock: socket.socket | None) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.add(sock)


class _HTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _track(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self.sock)
        super().request(*args, **kwargs)


class _HTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _track(sock)
        return sock

    def connect(self) -> None:
        super().connect()
        _track(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self.sock)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with connections that report their sockets to the deadline watchdog; no retries."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        if nxt is None:
            return exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            nxt = exc.reason
        exc = nxt
    return exc


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            out.append(reason)
        nxt = exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        if nxt is None:
            break
        exc = nxt
    return out


def classify(exc: BaseException, url: str, timeout: float, deadline_fired: bool) -> TransportError:
    """Turn whatever ``requests`` raised into a plain-English :class:`TransportError`."""
    host = urlsplit(url).hostname or "?"
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    if deadline_fired:
        return TransportError(
            "deadline", f"no complete answer within the {timeout:g} s deadline (the server was still sending "
            "or had not answered)")
    if any(isinstance(e, requests.exceptions.SSLError | urllib3.exceptions.SSLError) for e in chain):
        detail = "certificate verification failed"
        for marker in ("self-signed certificate", "self signed certificate", "certificate has expired",
                       "Hostname mismatch", "IP address mismatch", "unable to get local issuer certificate",
                       "certificate verify failed"):
            if marker.lower() in text.lower():
                detail = marker
                break
        return TransportError("tls", f"TLS certificate validation failed ({detail}); the platform treats this "
                                     "callback as failed")
    if any(isinstance(e, urllib3.exceptions.NameResolutionError | socket.gaierror) for e in chain):
        return TransportError("dns", f"the host name {host!r} could not be resolved")
    if any(isinstance(e, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError)
           for e in chain):
        return TransportError("timeout", f"no connection to {host}:{port} within {timeout:g} s")
    if any(isinstance(e, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError | TimeoutError)
           for e in chain):
        return TransportError("timeout", f"no answer within {timeout:g} s")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return TransportError("refused", f"connection refused by {host}:{port} (nothing listening?)")
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return TransportError("reset", "the server reset the connection")
    if "BadStatusLine" in text or any(type(e).__name__ in {"BadStatusLine", "LineTooLong"} for e in chain):
        return TransportError("not_http", "the server's answer is not HTTP")
    if any(type(e).__name__ == "RemoteDisconnected" for e in chain) or "without response" in text:
        return TransportError("closed", "the server closed the connection without answering")
    if any(isinstance(e, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.ProtocolError)
           for e in chain):
        return TransportError("protocol", f"the answer broke off or is not valid HTTP ({type(_root_cause(exc)).__name__})")
    if any(isinstance(e, requests.exceptions.ConnectionError | OSError) for e in chain):
        return TransportError("connection", f"the connection failed ({type(_root_cause(exc)).__name__})")
    return TransportError("error", f"the request failed ({type(exc).__name__})")


class Sender:
    """Delivers callback bodies to one target, from any number of threads, as the platform would."""

    _TRANSPORT_KINDS = frozenset({"timeout", "deadline", "refused", "tls", "dns", "connection", "closed", "reset"})

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
        self._consecutive_transport_failures = 0
        self._last_transport_error: TransportError | None = None
        self.requests_sent = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self.headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": config.user_agent,
            "Accept": "*/*",
            **dict(config.headers),
        }

    # -- sessions -------------------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies, no .netrc: straight to the target, like the platform
            adapter = _Adapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.verify = self.config.ca_bundle or True
            session.headers.clear()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every connection and the worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    @property
    def unreachable(self) -> TransportError | None:
        """The reason the target counts as unreachable, or None while it answers."""
        if self._consecutive_transport_failures >= self.config.unreachable_after:
            last = self._last_transport_error
            return TransportError(
                "unreachable",
                f"skipped: the target is unreachable ({self.config.unreachable_after} consecutive transport "
                f"failures, the last: {last.reason if last else 'unknown'})",
            )
        return None

    # -- delivery -------------------------------------------------------------------------------------------
    def deliver(self, payload: Any, *, label: str = "") -> Exchange:
        """POST one callback body and record the answer (never raises for what the target does)."""
        body = encode(payload)
        gave_up = self.unreachable
        if gave_up is not None:
            exchange = Exchange(body=body, started=time.time(), error=gave_up, label=label)
            self._record(exchange)
            return exchange
        if self._limiter is not None:
            self._limiter.acquire()
        exchange = Exchange(body=body, started=time.time(), label=label)
        timeout = self.config.timeout
        deadline = _Deadline(time.monotonic() + timeout)
        _current.deadline = deadline
        _WATCHDOG.watch(deadline)
        start = time.perf_counter()
        with self._lock:
            self.requests_sent += 1
        try:
            response = self._session().post(
                self.config.url, data=body, headers=self.headers, timeout=(timeout, timeout),
                allow_redirects=False, stream=True,
            )
            try:
                exchange.status = response.status_code
                exchange.reason = response.reason or ""
                exchange.headers = dict(response.headers)
                cap = self.config.body_cap
                data = response.raw.read(cap + 1, decode_content=True) or b""
                exchange.truncated = len(data) > cap
                exchange.response_body = data[:cap]
            finally:
                if exchange.truncated or deadline.fired:
                    response.close()
        except Exception as exc:  # noqa: BLE001 - whatever the transport raised becomes a recorded outcome
            exchange.error = classify(exc, self.config.url, timeout, deadline.fired)
        finally:
            exchange.elapsed = time.perf_counter() - start
            _WATCHDOG.forget(deadline)
            _current.deadline = None
        if exchange.error is None and deadline.fired:
            exchange.error = classify(TimeoutError(), self.config.url, timeout, True)
        self._count_transport(exchange.error)
        self._record(exchange)
        return exchange

    def _count_transport(self, error: TransportError | None) -> None:
        with self._lock:
            if error is not None and error.kind in self._TRANSPORT_KINDS:
                self._consecutive_transport_failures += 1
                self._last_transport_error = error
            elif error is None:
                self._consecutive_transport_failures = 0

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
    def curl(self, body: bytes) -> str:
        """A ``curl`` command that repeats this delivery, secrets masked."""
        parts = ["curl", "-sS", "-i", "-X", "POST", "--max-time", f"{self.config.timeout:g}", "--proto-redir", "-all"]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.config.ca_bundle:
            parts += ["--cacert", self.config.ca_bundle]
        parts += ["--data-binary", body.decode("utf-8", "replace"), self.config.url]
        return self.redactor.mask(" ".join(shlex.quote(p) for p in parts))


def unique_bodies(exchanges: Iterable[Exchange]) -> int:
    """How many distinct request bodies these exchanges carried."""
    return len({e.body for e in exchanges})
