"""Delivering callbacks exactly as the platform does, and nothing more.

POST, ``Content-Type: application/json; charset=utf-8``, a UTF-8 JSON body, certificates verified (a TLS
failure is a failed callback), redirects never followed (a 3xx is a failed callback), a User-Agent naming the
tool and the run. Beyond the platform, for a tool pointed at endpoints it does not control:

* a deadline for the *whole* request, name resolution and connecting included. ``requests``' read timeout
  applies to each socket read, so a server trickling one byte a second never trips it; a watchdog thread shuts
  down the socket of any delivery still running at its deadline, which makes the blocked read fail at once.
  Name resolution runs in a helper thread that is waited for only until the deadline, and names under the
  reserved ``.invalid`` domain fail at once without a lookup (RFC 6761);
* response bodies are read raw (no decompression) up to a cap, so an endless body cannot exhaust memory;
* after a few consecutive deliveries without a usable answer (a transport failure, or a body that does not end
  within the cap) the target counts as unreachable and the remaining deliveries fail at once instead of each
  waiting out its deadline;
* an optional rate limit that holds in every one-second window across all threads, measured where it matters:
  at the target (see :class:`RateLimiter`);
* :meth:`Sender.stop` (on Ctrl-C) aborts the deliveries in flight and makes later ones fail at once.

This module imports nothing else of the project but the redactor; checks judge its :class:`Exchange` records.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import shlex
import socket
import ssl
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
from urllib3.util.connection import allowed_gai_family

from conformance.secrets import Redactor

__all__ = [
    "BODY_CAP",
    "CONTENT_TYPE",
    "DeliveryConfig",
    "Exchange",
    "RateLimiter",
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


# -- rate limit -----------------------------------------------------------------------------------------------
class _Slot:
    """One request's place in the rate limiter: held while in flight, then for a window after it completed."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done: float | None = None


class RateLimiter:
    """At most ``rate`` requests in any one-second window, across threads, as seen by the target.

    A request holds its slot from the moment it may start until one window after it *completed*. The moment it
    reaches the target lies in between, so however long a request waited for a connection or on the network,
    arrivals at the target never exceed the rate either: a request is only let go once every request that could
    share a one-second window with it is counted. A rate below 1 means one request per ``1 / rate`` seconds.
    """

    MARGIN = 0.02  # seconds: clocks are read at slightly different moments on the two sides

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"a rate limit must be positive (got {rate!r})")
        self.capacity = max(1, int(rate))
        self.window = (1.0 if rate >= 1 else 1.0 / rate) + self.MARGIN
        self._slots: list[_Slot] = []
        self._cond = threading.Condition()

    def acquire(self, cancelled: Callable[[], bool] | None = None) -> _Slot | None:
        """Wait until one more request fits, and hold its slot; None once ``cancelled()`` is true."""
        with self._cond:
            while True:
                if cancelled is not None and cancelled():
                    return None
                now = time.monotonic()
                self._slots = [s for s in self._slots if s.done is None or now - s.done < self.window]
                if len(self._slots) < self.capacity:
                    slot = _Slot()
                    self._slots.append(slot)
                    return slot
                ends = [s.done + self.window - now for s in self._slots if s.done is not None]
                # re-check at least every 0.1 s so that a cancellation is noticed
                self._cond.wait(min(max(min(ends), 0.001), 0.1) if ends else 0.1)

    def release(self, slot: _Slot, *, sent: bool = True) -> None:
        """The request of ``slot`` completed (its window starts now), or was never sent (its slot is freed)."""
        with self._cond:
            if sent:
                slot.done = time.monotonic()
            elif slot in self._slots:
                self._slots.remove(slot)
            self._cond.notify_all()


# -- deadline -------------------------------------------------------------------------------------------------
class _Deadline:
    """The deadline of one delivery and the sockets it uses."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self.sockets: list[socket.socket] = []

    def remaining(self) -> float:
        return self.at - time.monotonic()

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
        with contextlib.suppress(OSError):  # already closed, or detached by the TLS wrapper
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


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
        # Under the lock: once forgotten, a deadline can no longer fire, so a socket back in the pool is safe.
        with self._lock:
            self._active.pop(id(deadline), None)

    def fire_now(self, deadlines: Iterable[_Deadline]) -> None:
        with self._lock:
            for deadline in deadlines:
                if id(deadline) in self._active:
                    deadline.fire()

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                for deadline in self._active.values():
                    if deadline.at <= now and not deadline.fired:
                        deadline.fire()


_WATCHDOG = _Watchdog()
_current = threading.local()


def _deadline() -> _Deadline | None:
    return getattr(_current, "deadline", None)


def _track(sock: socket.socket | None) -> None:
    deadline = _deadline()
    if deadline is not None:
        deadline.add(sock)


# -- connecting within the deadline ---------------------------------------------------------------------------
class _ResolveTimeout(socket.gaierror):
    """Name resolution did not finish before the delivery's deadline."""


def _reserved_invalid(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "invalid" or name.endswith(".invalid")


def _resolve(host: str, port: int, within: float) -> list[Any]:
    """getaddrinfo for a stream socket, given up after ``within`` seconds; never a lookup for ``.invalid``."""
    family = allowed_gai_family()
    if _reserved_invalid(host):
        # RFC 6761: resolvers should answer names under .invalid negatively at once; no query leaves the host.
        raise socket.gaierror(socket.EAI_NONAME, "a name under the reserved .invalid domain never resolves")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    result: list[Any] = []
    failure: list[OSError] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            result.extend(socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))
        except OSError as exc:
            failure.append(exc)
        except Exception as exc:  # e.g. UnicodeError from the IDNA codec: a failed lookup
            failure.append(socket.gaierror(socket.EAI_NONAME, f"{type(exc).__name__}"))
        finally:
            done.set()

    threading.Thread(target=lookup, name="dlr-resolve", daemon=True).start()
    if not done.wait(max(within, 0.0)):
        raise _ResolveTimeout(socket.EAI_AGAIN, f"no answer from the DNS resolver within {max(within, 0):.3g} s")
    if failure:
        raise failure[0]
    return result


def _connect(conn: HTTPConnection) -> socket.socket:
    """urllib3's ``_new_conn`` with the name lookup and every connect attempt bounded by the deadline."""
    deadline = _deadline()
    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    limit = deadline.remaining() if deadline is not None else (timeout if timeout is not None else 60.0)
    host = conn._dns_host  # the name to resolve (conn.host stays the TLS server name)
    if host.startswith("["):
        host = host.strip("[]")
    try:
        host.encode("idna")
    except UnicodeError:
        raise urllib3.exceptions.LocationParseError(f"'{host}', label empty or too long") from None
    try:
        infos = _resolve(host, conn.port or 80, limit)
    except socket.gaierror as exc:
        raise urllib3.exceptions.NameResolutionError(conn.host, conn, exc) from exc
    last: OSError | None = None
    for family, socktype, proto, _, address in infos:
        left = deadline.remaining() if deadline is not None else limit
        if left <= 0:
            break
        sock = socket.socket(family, socktype, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(min(left, timeout) if timeout is not None else left)
            if conn.source_address:
                sock.bind(conn.source_address)
            _track(sock)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    if last is None or isinstance(last, TimeoutError):
        raise urllib3.exceptions.ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={timeout})"
        ) from last
    raise urllib3.exceptions.NewConnectionError(conn, f"Failed to establish a new connection: {last}") from last


class _HTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self.sock)
        super().request(*args, **kwargs)


class _HTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect(self)

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


# -- what went wrong, in plain words ------------------------------------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it (causes, contexts, urllib3 reasons, wrapped first arguments)."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 50:
        current = todo.pop(0)
        if any(current is seen for seen in out):
            continue
        out.append(current)
        for nxt in (
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
            *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)],
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return out


# OpenSSL verification codes (X509_V_ERR_*) and what they mean for a customer
_TLS_VERIFY = {
    18: "the certificate is self-signed, not issued by a trusted certificate authority",
    19: "the certificate chain ends in a self-signed certificate that is not trusted",
    10: "the certificate has expired",
    9: "the certificate is not yet valid",
    62: "the certificate is for another host name",
    64: "the certificate is for another host name (IP address mismatch)",
    20: (
        "the certificate is not issued by a trusted certificate authority (for a private CA, pass its certificate "
        "with --ca-bundle)"
    ),
    2: "the certificate's issuer is not trusted (for a private CA, pass its certificate with --ca-bundle)",
    21: "the certificate could not be verified: the server sent no complete chain to a trusted CA",
    23: "the certificate has been revoked",
}
_NOT_HTTP = {
    "BadStatusLine": "the server's answer is not HTTP (no valid status line)",
    "LineTooLong": "the server's answer is not valid HTTP (a status or header line over 64 KiB)",
    "UnknownProtocol": "the server's answer is not HTTP/1.x",
    "HeaderParsingError": "the server's answer has malformed headers",
}


def _tls_reason(chain: list[BaseException], host: str) -> str:
    for exc in chain:
        if isinstance(exc, ssl.SSLCertVerificationError):
            code = exc.verify_code
            detail = _TLS_VERIFY.get(code) or f"certificate verification failed ({exc.verify_message})"
            if code in (62, 64):
                detail += f": it is not valid for {host!r}"
            return f"TLS certificate validation failed: {detail}; the platform treats this callback as failed"
    for exc in chain:
        if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError):
            what = (exc.reason or type(exc).__name__).replace("_", " ").lower()
            return (
                f"the TLS handshake failed ({what}); is the target serving https on that port? "
                "The platform treats this callback as failed"
            )
    return "the TLS handshake failed (the server ended the connection); the platform treats this callback as failed"


def classify(
    exc: BaseException, url: str, timeout: float, deadline_fired: bool, *, phase: str = "answer"
) -> TransportError:
    """Turn whatever ``requests`` raised into a plain-English :class:`TransportError`.

    ``phase`` is how far the answer got: ``answer`` (no status line and headers yet) or ``body``.
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    if deadline_fired:
        if phase == "body":
            return TransportError(
                "deadline",
                f"the response body was still arriving at the {timeout:g} s deadline "
                "(the server sends it too slowly, or never ends it)",
            )
        return TransportError(
            "deadline",
            f"no complete answer within the {timeout:g} s deadline: the status line and "
            "headers had not fully arrived (the server did not answer, or too slowly)",
        )
    if any(isinstance(e, socket.gaierror | urllib3.exceptions.NameResolutionError) for e in chain):
        gai = next((e for e in chain if isinstance(e, socket.gaierror)), None)
        why = f" ({gai.strerror})" if gai is not None and gai.strerror else ""
        return TransportError("dns", f"the host name {host!r} could not be resolved{why}")
    if any(isinstance(e, ssl.SSLError | requests.exceptions.SSLError | urllib3.exceptions.SSLError) for e in chain):
        return TransportError("tls", _tls_reason(chain, host))
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return TransportError("refused", f"connection refused by {host}:{port} (nothing is listening on that port)")
    if any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError | requests.exceptions.ConnectTimeout)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return TransportError("timeout", f"no connection to {host}:{port} within {timeout:g} s")
    if "RemoteDisconnected" in names or any("without response" in str(e) for e in chain):
        # before resets: http.client's RemoteDisconnected is a ConnectionResetError too
        return TransportError("closed", "the server closed the connection without answering")
    if any(isinstance(e, ConnectionResetError | BrokenPipeError | ConnectionAbortedError) for e in chain):
        return TransportError("reset", "the server reset the connection (TCP reset) instead of answering")
    for name, reason in _NOT_HTTP.items():
        if name in names:
            return TransportError("not_http", reason)
    if "HTTPException" in names and any("got more than" in str(e) for e in chain):
        return TransportError("not_http", "the server's answer is not valid HTTP (more than 100 header lines)")
    if "IncompleteRead" in names or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TransportError(
            "protocol", "the answer broke off: the server closed the connection before the end of the body"
        )
    if any(
        isinstance(e, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError | TimeoutError)
        for e in chain
    ):
        return TransportError("timeout", f"no answer within {timeout:g} s")
    if any(isinstance(e, urllib3.exceptions.ProtocolError) for e in chain):
        return TransportError("protocol", "the answer broke off or is not valid HTTP")
    if any(isinstance(e, requests.exceptions.ConnectionError | OSError) for e in chain):
        root = chain[-1]
        return TransportError("connection", f"the connection failed ({type(root).__name__})")
    return TransportError("error", f"the request could not be made ({type(exc).__name__})")


# -- the sender -----------------------------------------------------------------------------------------------
def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that changes nothing, so that the URL's userinfo does not replace an explicit header."""
    return request


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
        self._in_flight: set[_Deadline] = set()
        self._consecutive_failures = 0
        self._last_failure: str | None = None
        self.requests_sent = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        # An explicit Authorization header wins over the URL's userinfo (as with curl -H and -u); otherwise
        # requests turns the userinfo into Basic credentials, as the platform presumably does.
        explicit = any(name.lower() == "authorization" for name, _ in config.headers)
        self._auth: Callable[[requests.PreparedRequest], requests.PreparedRequest] | None = (
            _keep_headers if explicit else None
        )
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

    def stop(self) -> None:
        """Abort the deliveries in flight and make every later one fail at once (the run is interrupted)."""
        self._stopped.set()
        with self._lock:
            in_flight = list(self._in_flight)
        _WATCHDOG.fire_now(in_flight)

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
    def deliver(self, payload: Any, *, label: str = "") -> Exchange:
        """POST one callback body and record the answer (never raises for what the target does)."""
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
            exchange = self._post(body, label)
        finally:
            if slot is not None and self._limiter is not None:
                self._limiter.release(slot)
        self._count(exchange)
        self._record(exchange)
        return exchange

    def _post(self, body: bytes, label: str) -> Exchange:
        exchange = Exchange(body=body, started=time.time(), label=label)
        timeout = self.config.timeout
        deadline = _Deadline(time.monotonic() + timeout)
        _current.deadline = deadline
        with self._lock:
            self.requests_sent += 1
            self._in_flight.add(deadline)
        _WATCHDOG.watch(deadline)
        start = time.perf_counter()
        phase = "answer"
        response: requests.Response | None = None
        complete = False
        try:
            response = self._session().post(
                self.config.url,
                data=body,
                headers=self.headers,
                timeout=(timeout, timeout + READ_TIMEOUT_SLACK),
                allow_redirects=False,
                stream=True,
                auth=self._auth,
            )
            # headers cut short by the watchdog end early, so only count them complete if it had not fired yet
            phase = "answer" if deadline.fired else "body"
            exchange.status = response.status_code
            exchange.reason = response.reason or ""
            exchange.headers = dict(response.headers)
            exchange.response_body, exchange.truncated = self._read_body(response)
            complete = not exchange.truncated
        except Exception as exc:  # whatever the transport raised becomes a recorded outcome
            exchange.error = classify(exc, self.config.url, timeout, deadline.fired, phase=phase)
        finally:
            exchange.elapsed = time.perf_counter() - start
            _WATCHDOG.forget(deadline)
            _current.deadline = None
            with self._lock:
                self._in_flight.discard(deadline)
            if response is not None and (deadline.fired or not complete):
                response.close()  # a connection shut down or left mid-body is never reused
        if exchange.error is None and deadline.fired:
            exchange.error = classify(TimeoutError(), self.config.url, timeout, True, phase=phase)
        if exchange.error is not None and self._stopped.is_set():
            exchange.error = TransportError("interrupted", "aborted: the run was interrupted")
        return exchange

    def _read_body(self, response: requests.Response) -> tuple[bytes, bool]:
        """At most ``body_cap`` bytes of the body, raw (never decompressed), and whether there was more."""
        cap = self.config.body_cap
        data = bytearray()
        while len(data) <= cap:
            chunk = response.raw.read(min(65536, cap + 1 - len(data)), decode_content=False)
            if not chunk:
                break
            data += chunk
        return bytes(data[:cap]), len(data) > cap

    def _count(self, exchange: Exchange) -> None:
        """Count deliveries without a usable answer in a row; a complete answer of any status resets the count."""
        if exchange.error is not None and exchange.error.kind == "interrupted":
            return
        with self._lock:
            if exchange.error is not None:
                self._consecutive_failures += 1
                self._last_failure = exchange.error.reason
            elif exchange.truncated:
                self._consecutive_failures += 1
                self._last_failure = (
                    f"the response body did not end within {self.config.body_cap // 1024} KiB "
                    "(an endless or oversized body)"
                )
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
    def curl(self, body: bytes) -> str:
        """A ``curl`` command that repeats this delivery, secrets masked."""
        parts = ["curl", "-sS", "-i", "-X", "POST", "--max-time", f"{self.config.timeout:g}"]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.config.ca_bundle:
            parts += ["--cacert", self.config.ca_bundle]
        parts += ["--data-binary", body.decode("utf-8", "replace"), self.redactor.mask_url(self.config.url)]
        return self.redactor.mask(" ".join(shlex.quote(p) for p in parts))


def unique_bodies(exchanges: Iterable[Exchange]) -> int:
    """How many distinct request bodies these exchanges carried."""
    return len({e.body for e in exchanges})
