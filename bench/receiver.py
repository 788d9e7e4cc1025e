"""A fast counting receiver for the benchmark: answers every POST with 200, counts arrivals.

Run as a separate process so that it has a core of its own, like a customer's receiver would:
``python bench/receiver.py PORT_FILE``. ``GET /stats`` returns the count and the first and last arrival
(``time.monotonic``, which is the same clock in every process on Linux); ``DELETE /stats`` resets them.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Stats:
    """Arrival counter shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget all arrivals."""
        self.count = 0
        self.first = 0.0
        self.last = 0.0

    def hit(self) -> None:
        """Count one arrival now."""
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.first = self.first or now
            self.last = now


class Handler(BaseHTTPRequestHandler):
    """200 to every POST; /stats for the counts."""

    protocol_version = "HTTP/1.1"
    server: Server

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.stats.hit()
        self._send(200, b"")

    def do_GET(self) -> None:
        s = self.server.stats
        with s.lock:
            body = json.dumps({"count": s.count, "first": s.first, "last": s.last}).encode()
        self._send(200, body)

    def do_DELETE(self) -> None:
        with self.server.stats.lock:
            self.server.stats.reset()
        self._send(200, b"")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    """Threading server with TCP_NODELAY on every connection (Nagle would cap keep-alive at ~25 req/s)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.stats = Stats()
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closes its keep-alive connection at the end of a run is normal: no traceback."""

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


if __name__ == "__main__":
    server = Server()
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()
