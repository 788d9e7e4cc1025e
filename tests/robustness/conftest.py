"""Hostile endpoints, well-behaved receivers and runs of the CLI, all on 127.0.0.1.

Every server here is real (:mod:`tests.support.servers`): a listening socket on 127.0.0.1, port 0, served by daemon
threads. The hostile ones misbehave at the transport level (never answer, trickle, stream forever, reset, speak
something else, bad certificates); the receivers answer HTTP and record what arrived and when
(``time.monotonic``, the same clock in every process of the machine). Loops are bounded by a stop event, a byte
budget or an iteration cap.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.runs import SuiteRun, run_suite
from tests.support.servers import Behaviour, TcpServer, closed_port

TIMEOUT = 1.0  # the --timeout of every run against a hostile endpoint
LOOPBACK = "127.0.0.1"


# -- raw TCP behaviours ---------------------------------------------------------------------------------------
def read_request(conn: socket.socket) -> bytes:
    """Read one HTTP request (headers and a Content-Length body, at most 1 MiB)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 1 << 20:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < min(length, 1 << 20):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return data


def hold_open(server: TcpServer, conn: socket.socket) -> None:
    """Keep the connection open, answering nothing, until the client closes it (at most two minutes)."""
    conn.settimeout(0.2)
    for _ in range(600):
        if server.stop.is_set():
            return
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue


def trickle(server: TcpServer, conn: socket.socket, data: bytes, interval: float = 0.2) -> None:
    """Send ``data`` one byte at a time, ``interval`` seconds apart."""
    for i in range(len(data)):
        if server.stop.is_set():
            return
        conn.sendall(data[i : i + 1])
        server.stop.wait(interval)


def never_answers(server: TcpServer, conn: socket.socket) -> None:
    """Accept the request and never answer."""
    read_request(conn)
    hold_open(server, conn)


def trickles_status_line(server: TcpServer, conn: socket.socket) -> None:
    """Send the status line a byte at a time."""
    read_request(conn)
    trickle(server, conn, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0.25)


def trickles_headers(server: TcpServer, conn: socket.socket) -> None:
    """Send the status line at once, then the headers a byte at a time."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    trickle(server, conn, b"X-Padding: " + b"a" * 100 + b"\r\nContent-Length: 0\r\n\r\n", 0.1)


def trickles_body(server: TcpServer, conn: socket.socket) -> None:
    """Send status line and headers at once, then a 1000-byte body a byte at a time."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
    trickle(server, conn, b"x" * 1000, 0.1)


def endless_body(server: TcpServer, conn: socket.socket) -> None:
    """Answer 200 and stream a body that never ends, as fast as the client reads (at most 8 GiB)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
    block = b"\0" * 65536
    for _ in range(1 << 17):
        if server.stop.is_set():
            return
        conn.sendall(block)


LARGE_BODY = 200 * 1024


def large_body(server: TcpServer, conn: socket.socket) -> None:
    """Answer 200 with a finite 200 KiB body (Content-Length given), on every request of the connection."""
    while read_request(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % LARGE_BODY)
        conn.sendall(b"x" * LARGE_BODY)


def endless_headers(server: TcpServer, conn: socket.socket) -> None:
    """Answer with a status line and then header lines that never end (at most 1 million)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for i in range(1_000_000):
        if server.stop.is_set():
            return
        conn.sendall(f"X-Header-{i}: {'a' * 50}\r\n".encode())


def endless_status_line(server: TcpServer, conn: socket.socket) -> None:
    """Answer with a status line that never ends (at most 64 MiB)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 ")
    for _ in range(1024):
        if server.stop.is_set():
            return
        conn.sendall(b"O" * 65536)


def resets(server: TcpServer, conn: socket.socket) -> None:
    """Read the request, then reset the connection (RST, not FIN)."""
    read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def not_http(server: TcpServer, conn: socket.socket) -> None:
    """Answer with something that is not HTTP."""
    read_request(conn)
    conn.sendall(b"SSH-2.0-OpenSSH_9.6 hostile\r\nthis is not an HTTP answer\r\n\r\n")


def closes_without_answer(server: TcpServer, conn: socket.socket) -> None:
    """Read the request and close the connection without a word."""
    read_request(conn)


def redirects_to_itself(server: TcpServer, conn: socket.socket) -> None:
    """Answer every request with a redirect to the same URL (a redirect loop)."""
    read_request(conn)
    conn.sendall(
        f"HTTP/1.1 302 Found\r\nLocation: {server.url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )


def answers_200(server: TcpServer, conn: socket.socket) -> None:
    """A correct answer: 200 OK, empty body (used behind certificates good and bad)."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


# -- certificates ---------------------------------------------------------------------------------------------
@dataclass
class Pki:
    """A private CA (as a PEM file) and server TLS contexts with good and bad certificates."""

    ca_pem: Path
    good: ssl.SSLContext
    expired: ssl.SSLContext
    wrong_host: ssl.SSLContext
    self_signed: ssl.SSLContext


def _self_signed_context(tmp: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "self-signed.pem", tmp / "self-signed.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A trustme CA and server contexts: a good certificate, an expired one, one for another host, a self-signed."""
    import trustme

    tmp = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca_pem = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))

    def context(cert: Any) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        return ctx

    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    return Pki(
        ca_pem=ca_pem,
        good=context(ca.issue_cert(LOOPBACK, "localhost")),
        expired=context(ca.issue_cert(LOOPBACK, "localhost", not_before=past - dt.timedelta(days=30), not_after=past)),
        wrong_host=context(ca.issue_cert("other-host.example")),
        self_signed=_self_signed_context(tmp),
    )


# -- hostile endpoints by name ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hostile:
    """A hostile endpoint for one run: its URL, extra CLI arguments, and words the reason must contain."""

    name: str
    url: str
    args: tuple[str, ...]
    reason: str


# name -> (behaviour, TLS context name or None, host in the URL, --ca-bundle given, words of the reason)
_SERVERS: dict[str, tuple[Behaviour, str | None, str, bool, str]] = {
    "never-answers": (never_answers, None, LOOPBACK, False, "no complete answer within the 1 s deadline"),
    "trickles-status-line": (trickles_status_line, None, LOOPBACK, False, "no complete answer within the 1 s deadline"),
    "trickles-headers": (trickles_headers, None, LOOPBACK, False, "no complete answer within the 1 s deadline"),
    "trickles-body": (trickles_body, None, LOOPBACK, False, "the response body was still arriving"),
    "endless-body": (endless_body, None, LOOPBACK, False, "the response body was still arriving"),
    "resets": (resets, None, LOOPBACK, False, "reset the connection"),
    "not-http": (not_http, None, LOOPBACK, False, "is not HTTP"),
    "closes-without-answer": (closes_without_answer, None, LOOPBACK, False, "closed the connection without answering"),
    "redirect-loop": (redirects_to_itself, None, LOOPBACK, False, "redirect"),
    "tls-self-signed": (answers_200, "self_signed", LOOPBACK, False, "self-signed"),
    "tls-expired": (answers_200, "expired", LOOPBACK, True, "the certificate has expired"),
    "tls-wrong-host": (answers_200, "wrong_host", "localhost", True, "the certificate is for another host name"),
}
HOSTILE_NAMES = [*_SERVERS, "closed-port", "unresolvable-host"]
BEHAVIOURS: dict[str, Behaviour] = {
    "never_answers": never_answers,
    "answers_200": answers_200,
    "endless_body": endless_body,
    "large_body": large_body,
    "trickles_body": trickles_body,
    "resets": resets,
    "endless_headers": endless_headers,
    "endless_status_line": endless_status_line,
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that asks for ``hostile`` runs once per hostile endpoint."""
    if "hostile" in metafunc.fixturenames:
        metafunc.parametrize("hostile", HOSTILE_NAMES, indirect=True)


@pytest.fixture
def tcp_server() -> Iterator[Callable[..., TcpServer]]:
    """Start raw TCP servers by behaviour name (see BEHAVIOURS), closed at the end of the test."""
    started: list[TcpServer] = []

    def start(behaviour: str, tls: ssl.SSLContext | None = None) -> TcpServer:
        server = TcpServer(BEHAVIOURS[behaviour], tls=tls).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def hostile(request: pytest.FixtureRequest, pki: Pki) -> Iterator[Hostile]:
    """The hostile endpoint named by the test's parameter (indirect parametrisation)."""
    name: str = request.param
    if name == "closed-port":
        yield Hostile(name, f"http://{LOOPBACK}:{closed_port()}/dlr", (), "connection refused")
        return
    if name == "unresolvable-host":
        # .invalid is reserved (RFC 6761); dlr-conformance answers it negatively without a DNS query
        yield Hostile(name, "http://no-such-host.invalid/dlr", (), "could not be resolved")
        return
    behaviour, tls_name, url_host, with_ca, reason = _SERVERS[name]
    tls = getattr(pki, tls_name) if tls_name else None
    server = TcpServer(behaviour, tls=tls, url_host=url_host).start()
    try:
        yield Hostile(name, server.url, ("--ca-bundle", str(pki.ca_pem)) if with_ca else (), reason)
    finally:
        server.close()


# -- runs of the CLI -------------------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., SuiteRun]:
    """Run the CLI in-process to its end in this test's folder, reports at their defaults: ``cli(*args)``."""

    def run(*args: str, limit: float = 120.0) -> SuiteRun:
        return run_suite(tmp_path, None, *args, explicit=False, agree=False, limit=limit)

    return run
