"""A ``requests`` transport whose deliveries end at a deadline, whatever the server does.

``requests``' read timeout applies to each socket read, so a server trickling one byte a second never trips it.
Here every delivery has a :class:`Deadline`: the connections report their sockets to it, and a watchdog thread
shuts down the sockets of any delivery still running at its deadline, which makes the blocked read fail at once.
Name resolution runs in a helper thread that is waited for only until the deadline, and names under the reserved
``.invalid`` domain fail at once without a lookup (RFC 6761). No retries, no proxies.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import allowed_gai_family

__all__ = ["WATCHDOG", "Adapter", "Deadline", "current"]


class Deadline:
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
        self._active: dict[int, Deadline] = {}
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        with self._lock:
            self._active[id(deadline)] = deadline
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dlr-deadline-watchdog", daemon=True)
                self._thread.start()

    def forget(self, deadline: Deadline) -> None:
        # Under the lock: once forgotten, a deadline can no longer fire, so a socket back in the pool is safe.
        with self._lock:
            self._active.pop(id(deadline), None)

    def fire_now(self, deadlines: Iterable[Deadline]) -> None:
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


WATCHDOG = _Watchdog()
current = threading.local()


def _deadline() -> Deadline | None:
    return getattr(current, "deadline", None)


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


class Adapter(HTTPAdapter):
    """requests' adapter with connections that report their sockets to the deadline watchdog; no retries."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
