"""The tests' one way to serve: real HTTP servers on 127.0.0.1, port 0, in daemon threads.

:func:`serve` serves a receiver written as a stdlib ``http.server`` handler class or as a WSGI app, with
``TCP_NODELAY`` on the accepted sockets (Nagle plus delayed ACK would make every keep-alive answer ~40 ms slower)
and a backlog deep enough for a burst. :class:`Recorder` is the receiver most tests need: it keeps every request
(:class:`Arrival`, stamped with ``time.monotonic()``) and answers what a ``respond`` function says, which may also
be to hang up (:data:`CLOSE`) or never to answer (:data:`HANG`). :class:`TcpServer` is for what HTTP cannot say:
a raw socket, optionally TLS, handled by a behaviour function (trickle, reset, not HTTP...).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = [
    "CLOSE",
    "HANG",
    "Arrival",
    "Recorder",
    "Served",
    "TcpServer",
    "answer",
    "ok",
    "script",
    "serve",
]

log = logging.getLogger("dlr_conformance.tests.receivers")
LOOPBACK = "127.0.0.1"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class WsgiApp(Protocol):
    """A WSGI application."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""


class Served(Protocol):
    """A running receiver: where to send callbacks, and how to stop it."""

    url: str

    def stop(self) -> None:
        """Stop serving and release the port."""


# -- serving ----------------------------------------------------------------------------------------------------
class _NoDelay:
    """Server mix-in: a deep backlog for bursts, TCP_NODELAY on every accepted socket, daemon threads."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default of 5 drops connections in a burst of 20

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()  # type: ignore[misc]
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (an aborted or timed-out request) is not an error of the test."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _HTTPServer(_NoDelay, ThreadingHTTPServer):
    pass


class _WSGIServer(_NoDelay, ThreadingMixIn, WSGIServer):
    pass


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class Running:
    """A socketserver serving in a daemon thread: its ``url``, and ``stop()``."""

    def __init__(
        self,
        server: _HTTPServer | _WSGIServer,
        path: str,
        on_stop: Callable[[], None] | None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self._on_stop = on_stop
        host, port = server.server_address[:2]
        self.port = int(port)
        if tls is not None:  # every connection accepted from now on speaks TLS
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://{host}:{port}{path}"
        # a short poll interval: shutdown() waits for the loop to notice, up to one interval
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"receiver {self.url}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; handlers still waiting are released first."""
        if self._on_stop is not None:
            self._on_stop()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def serve(
    receiver: type[BaseHTTPRequestHandler] | WsgiApp, path: str = "/dlr", tls: ssl.SSLContext | None = None
) -> Running:
    """Serve a handler class (``http.server``) or a WSGI app on 127.0.0.1, port 0, in a daemon thread; over TLS
    with the server context ``tls``.

    An app with a ``release()`` method has it called when the server stops (to wake handlers still waiting).
    """
    on_stop = getattr(receiver, "release", None)
    if isinstance(receiver, type) and issubclass(receiver, BaseHTTPRequestHandler):
        return Running(_HTTPServer((LOOPBACK, 0), receiver), path, on_stop, tls)
    server = _WSGIServer((LOOPBACK, 0), _QuietWSGIHandler)
    server.set_app(receiver)
    return Running(server, path, on_stop, tls)


# -- a receiver that records and answers by a function ---------------------------------------------------------
@dataclass
class Arrival:
    """One request as a receiver saw it."""

    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: int = 0  # the client's port: one per connection


Reply = tuple[int, dict[str, str], bytes] | str
"""What a ``respond`` function returns: (status, headers, body), or :data:`CLOSE` or :data:`HANG`."""
Respond = Callable[[Arrival, int], Reply]

CLOSE = "close"
"""Hang up without answering."""
HANG = "hang"
"""Never answer (until the receiver stops)."""


def ok(arrival: Arrival, index: int) -> Reply:
    """200 OK with an empty body."""
    return 200, {}, b""


def answer(status: int, body: bytes | str = b"", **headers: str) -> Respond:
    """Answer every request with ``status``, ``body`` and ``headers`` (``Content_Type=`` for Content-Type)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    fields = {name.replace("_", "-"): value for name, value in headers.items()}
    return lambda arrival, index: (status, fields, data)


def script(*steps: int | str) -> Respond:
    """Answer by script, one step per request: a status, :data:`CLOSE` or :data:`HANG`; the last step repeats."""
    assert steps, "a script has at least one step"

    def respond(arrival: Arrival, index: int) -> Reply:
        step = steps[min(index, len(steps) - 1)]
        return step if isinstance(step, str) else (step, {}, b"")

    return respond


class Recorder:
    """An HTTP/1.1 receiver on 127.0.0.1 that keeps every request and answers with ``respond``.

    ``start()`` serves it (over TLS with the server context ``tls``) and returns it; ``url`` (path ``/dlr``),
    ``arrivals``, ``bodies``; ``stop()``.
    """

    def __init__(self, respond: Respond = ok, path: str = "/dlr", tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.path = path
        self.tls = tls
        self.arrivals: list[Arrival] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._running: Running | None = None

    @property
    def url(self) -> str:
        """The callback URL of this receiver."""
        assert self._running is not None, "start() the receiver first"
        return self._running.url

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._running is not None, "start() the receiver first"
        return self._running.port

    @property
    def bodies(self) -> list[bytes]:
        """The bodies received, in order."""
        return [arrival.body for arrival in list(self.arrivals)]

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of each request received, in order."""
        return [arrival.headers for arrival in list(self.arrivals)]

    def record(self, arrival: Arrival) -> int:
        """Keep an arrival; returns its index."""
        with self._lock:
            self.arrivals.append(arrival)
            return len(self.arrivals) - 1

    def start(self) -> Recorder:
        """Serve in a daemon thread; returns self."""
        self._running = serve(_handler(self), self.path, self.tls)
        return self

    def release(self) -> None:
        """Let go of every request held open (:data:`HANG`)."""
        self.released.set()

    def stop(self) -> None:
        """Release held requests, stop serving and close the socket."""
        self.release()
        if self._running is not None:
            self._running.stop()

    def __enter__(self) -> Recorder:
        return self.start() if self._running is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "recorder"

        def _any(self) -> None:
            at = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 1 << 20))
            arrival = Arrival(at, self.command, self.path, dict(self.headers.items()), body, self.client_address[1])
            reply = recorder.respond(arrival, recorder.record(arrival))
            if reply == HANG:
                recorder.released.wait(120)
            if isinstance(reply, str):
                self.close_connection = True
                return
            status, headers, data = reply
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = do_GET = _any

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

    return Handler


# -- raw sockets --------------------------------------------------------------------------------------------------
Behaviour = Callable[["TcpServer", socket.socket], None]


class TcpServer:
    """A TCP (optionally TLS) server on 127.0.0.1 that handles every connection with ``behaviour``.

    Behaviours end when :attr:`stop` is set (loops check it), at a byte budget or at an iteration cap.
    """

    def __init__(self, behaviour: Behaviour, *, tls: ssl.SSLContext | None = None, url_host: str = LOOPBACK) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.url_host = url_host
        self.stop = threading.Event()
        self.connections = 0
        self._sock = socket.create_server((LOOPBACK, 0), backlog=256)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="tcp-accept", daemon=True)

    @property
    def url(self) -> str:
        """The callback URL that points at this server."""
        return f"{'https' if self.tls else 'http'}://{self.url_host}:{self.port}/dlr"

    def start(self) -> TcpServer:
        """Accept connections in a daemon thread; returns self."""
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), name="tcp-conn", daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.behaviour(self, conn)
        except (OSError, ssl.SSLError):
            pass  # the client gave up, or rejected the certificate: that is the point
        finally:
            conn.close()

    def close(self) -> None:
        """Stop accepting and end every behaviour loop."""
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port
