"""The micro-framework the faulty receivers are written in, and two correct receivers.

Served with :func:`tests.support.servers.serve` (a WSGI app, or a handler class) or, for the asyncio one, by itself
(:func:`start`). Two correct receivers: :class:`CorrectWsgiReceiver`, the micro-framework's default view that
every faulty receiver changes in one place, and :class:`AsyncioReceiver`, written differently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import traceback
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from tests.support.servers import Served, StartResponse, serve

__all__ = ["Answer", "AsyncioReceiver", "CorrectWsgiReceiver", "JsonView", "start"]

log = logging.getLogger("dlr_conformance.tests.receivers")

Answer = int | tuple[int, str] | tuple[int, str, list[tuple[str, str]]]
"""What a view returns: a status, or a status and a body, or a status, a body and extra headers."""


def start(receiver: Any) -> Served:
    """Start any receiver here: an object with its own ``start`` (the asyncio one), else via :func:`serve`."""
    if hasattr(receiver, "start"):
        running: Served = receiver.start()
        return running
    return serve(receiver)


# -- a micro-framework, as customers use one: JSON in, exceptions become 500 -------------------------------------
class JsonView:
    """A WSGI app that parses the JSON body and calls :meth:`handle`; an exception becomes a 500, as in Flask.

    The default :meth:`handle` is correct: it stores every record idempotently, keyed by
    (api_job_id, message_id, status), and answers 200. Each faulty receiver overrides one step.
    """

    debug = False  # a framework's debug mode: an exception's traceback is the 500's body

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.released = threading.Event()

    def release(self) -> None:
        """Wake any handler still waiting and close what the view holds (called when the server stops)."""
        self.released.set()
        db = getattr(self, "db", None)
        if db is not None:
            db.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        headers: list[tuple[str, str]] = []
        try:
            answer = self.dispatch(environ)
            if answer is None:  # what Flask says when a view forgets to return
                raise TypeError("The view function did not return a valid response.")
        except Exception:
            log.debug("receiver error", exc_info=True)
            answer = (500, traceback.format_exc() if self.debug else "Internal Server Error")
        if isinstance(answer, int):
            answer = (answer, "")
        status, body = answer[0], answer[1]
        if len(answer) == 3:
            headers = list(answer[2])  # type: ignore[misc]
        data = body.encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(data))), *headers],
        )
        return [data]

    def dispatch(self, environ: dict[str, Any]) -> Answer:
        """Check the method, read and parse the body, hand it to :meth:`handle`."""
        if environ["REQUEST_METHOD"] != "POST":
            return 405, "POST only"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        return self.handle(json.loads(raw), raw, environ)

    def handle(self, callback: dict[str, Any], raw: bytes, environ: dict[str, Any]) -> Answer:
        """Store every record of the callback; answer 200."""
        for record in callback["data"]:
            self.save(callback, record)
        return 200

    def save(self, callback: dict[str, Any], record: dict[str, Any]) -> None:
        """Store one record once, whatever else it carries."""
        key = (callback["api_job_id"], record["message_id"], record["status"])
        with self.lock:
            self.reports.setdefault(key, record)


# -- correct receivers -------------------------------------------------------------------------------------------
class CorrectWsgiReceiver(JsonView):
    """Correct: the micro-framework's default view, an in-memory dict store, idempotent."""


class AsyncioReceiver:
    """Correct, and written differently: a raw HTTP/1.1 server on asyncio streams, one event loop, keep-alive.

    Reports are kept in a dict keyed by (api_job_id, message_id, status), so a retry is a no-op; everything runs
    on the loop's thread, so duplicates arriving together cannot race.
    """

    def __init__(self) -> None:
        self.reports: dict[tuple[str, str, str], Any] = {}
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="asyncio receiver", daemon=True)

    def start(self) -> AsyncioReceiver:
        """Serve in a daemon thread; returns self once listening."""
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the asyncio receiver did not start within 5 s")
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then end the loop."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(5)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=128)
        host, port = server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}/callbacks/dlr"
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while await self._exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request on the connection; False when the connection should close."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method = request_line.split(" ", 1)[0]
        headers = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status = self._status(method, body)
        keep_alive = headers.get("connection", "").lower() != "close"
        writer.write(
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Length: 0\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
        )
        await writer.drain()
        return keep_alive

    def _status(self, method: str, body: bytes) -> int:
        if method != "POST":
            return 405
        try:
            callback = json.loads(body)
            records = callback["data"]
        except (ValueError, TypeError, KeyError):
            return 400
        for record in records:
            if isinstance(record, dict):
                key = (str(callback.get("api_job_id")), str(record.get("message_id")), str(record.get("status")))
                self.reports.setdefault(key, record)
        return 200
