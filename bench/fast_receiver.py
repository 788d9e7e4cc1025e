"""A fast loopback receiver for the connection benchmark: asyncio, one process, 200 to every request at once.

Like a plain node.js server (one event loop, no thread per connection, nothing done with the body), so that the
generator, not the receiver, is what a load test against it measures: it answers ~10,000 keep-alive requests/s
on one core here, several times what one Locust process sends. ``python bench/fast_receiver.py PORT_FILE``
writes its port to PORT_FILE and serves until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Http(asyncio.Protocol):
    """HTTP/1.1 keep-alive, just enough of it: read each request's head and body, answer 200 with no body."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(ANSWER * answers)


async def serve(port_file: Path) -> None:
    """Listen on a free loopback port, write it to ``port_file``, serve forever."""
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", 0, backlog=4096)
    port_file.write_text(str(server.sockets[0].getsockname()[1]), encoding="utf-8")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
