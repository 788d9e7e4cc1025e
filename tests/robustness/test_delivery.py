"""The sender's safety nets, one at a time, against real servers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from conformance.delivery.masking import MASK, Redactor
from conformance.delivery.sender import DeliveryConfig, RateLimiter, Sender

if TYPE_CHECKING:
    from tests.support.servers import Arrival, Recorder, TcpServer


def bound(timeout: float) -> float:
    """The bound docs/robustness.md states for "it ends", loose enough for a loaded CI machine; the asserted
    cause (deadline, not_http, ...) says *how* it ended."""
    return 6 * timeout + 20


def test_deadline_bounds_a_trickled_body(tcp_server: Callable[..., TcpServer]) -> None:
    """A body trickled a byte at a time never trips a read timeout; the whole-request deadline stops it."""
    server = tcp_server("trickles_body")
    sender = Sender(DeliveryConfig(server.url, timeout=0.5))
    started = time.monotonic()
    exchange = sender.deliver({"a": 1})
    assert time.monotonic() - started < bound(0.5)
    assert exchange.error is not None
    assert exchange.error.kind == "deadline"
    assert "body was still arriving" in exchange.error.reason
    sender.close()


def test_endless_body_fails_at_the_deadline(tcp_server: Callable[..., TcpServer]) -> None:
    """A body that never ends is read (and dropped) until the deadline: no complete answer, a failed delivery."""
    server = tcp_server("endless_body")
    sender = Sender(DeliveryConfig(server.url, timeout=1, body_cap=1000))
    exchange = sender.deliver({"a": 1})
    assert exchange.error is not None
    assert exchange.error.kind == "deadline"
    assert "the response body was still arriving" in exchange.error.reason
    assert len(exchange.response_body) <= 1000
    sender.close()


def test_large_finite_body_is_a_complete_answer(tcp_server: Callable[..., TcpServer]) -> None:
    """A finite 200 KiB body is read to its end (its start kept): a complete 200, and the breaker never trips."""
    server = tcp_server("large_body")
    sender = Sender(DeliveryConfig(server.url, timeout=5, body_cap=1000))
    exchanges = [sender.deliver({"n": i}) for i in range(4)]
    for exchange in exchanges:
        assert (exchange.error, exchange.status) == (None, 200)
        assert exchange.truncated
        assert exchange.body_size == 200 * 1024  # the large_body server's Content-Length
        assert exchange.response_body == b"x" * 1000
    assert sender.unreachable is None
    assert sender.requests_sent == 4
    sender.close()


def test_breaker_stops_sending_after_three_failures(tcp_server: Callable[..., TcpServer]) -> None:
    """Three resets in a row: the target counts as unreachable and later deliveries are not sent at all."""
    server = tcp_server("resets")
    sender = Sender(DeliveryConfig(server.url, timeout=2))
    exchanges = [sender.deliver({"n": i}) for i in range(6)]
    assert [e.error.kind if e.error else None for e in exchanges] == ["reset"] * 3 + ["unreachable"] * 3
    assert "the server reset the connection" in exchanges[-1].error.reason  # type: ignore[union-attr]
    assert sender.requests_sent == 3
    assert server.connections == 3
    sender.close()


def test_burst_in_flight_when_the_breaker_trips_is_still_bounded(tcp_server: Callable[..., TcpServer]) -> None:
    """Twenty concurrent deliveries to a silent server each end at the deadline, not later."""
    server = tcp_server("never_answers")
    sender = Sender(DeliveryConfig(server.url, timeout=1))
    started = time.monotonic()
    exchanges = sender.deliver_many([{"n": i} for i in range(20)], concurrency=20)
    assert time.monotonic() - started < bound(1)
    assert {e.error.kind for e in exchanges if e.error} == {"deadline"}
    assert sender.unreachable is not None
    sender.close()


def test_reserved_invalid_name_fails_without_a_lookup() -> None:
    """A host under .invalid is answered negatively at once (RFC 6761): no DNS query leaves the machine."""
    sender = Sender(DeliveryConfig("http://no-such-host.invalid/dlr", timeout=1))
    exchange = sender.deliver({"a": 1})
    assert exchange.error is not None
    assert exchange.error.kind == "dns"
    assert "'no-such-host.invalid' could not be resolved" in exchange.error.reason
    assert "reserved .invalid domain" in exchange.error.reason
    sender.close()


def test_stop_aborts_deliveries_in_flight(tcp_server: Callable[..., TcpServer]) -> None:
    """Ctrl-C: a delivery waiting on a silent server ends at once, and later ones are not sent."""
    server = tcp_server("never_answers")
    sender = Sender(DeliveryConfig(server.url, timeout=30))
    results = []
    worker = threading.Thread(target=lambda: results.append(sender.deliver({"a": 1})), daemon=True)
    worker.start()
    for _ in range(200):
        if server.connections:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    stopped = time.monotonic()
    sender.stop()
    worker.join(timeout=10)
    assert time.monotonic() - stopped < 5
    assert results
    assert results[0].error is not None
    assert results[0].error.kind == "interrupted"
    later = sender.deliver({"a": 2})
    assert later.error is not None
    assert later.error.kind == "interrupted"
    assert server.connections == 1
    sender.close()


def test_explicit_authorization_header_wins_over_the_userinfo(recorder: Callable[..., Recorder]) -> None:
    """``--header 'Authorization: …'`` is sent as given; without it the userinfo becomes Basic credentials."""
    receiver = recorder()
    url = receiver.url.replace("http://", "http://dlruser:pw-123@")
    Sender(DeliveryConfig(url, headers=(("Authorization", "Bearer tok-1"),))).deliver({"a": 1})
    Sender(DeliveryConfig(url)).deliver({"a": 2})
    first, second = (a.headers.get("Authorization") for a in receiver.arrivals)
    assert first == "Bearer tok-1"
    assert second == "Basic " + base64.b64encode(b"dlruser:pw-123").decode()


def test_rate_limit_holds_at_the_target_with_slow_answers(recorder: Callable[..., Recorder]) -> None:
    """Requests that wait on the network still never arrive more than R to a one-second window."""

    def jittery(arrival: Arrival, index: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep((index * 37 % 10) / 30)  # 0 to 0.3 s
        return 200, {}, b""

    receiver = recorder(jittery)
    sender = Sender(DeliveryConfig(receiver.url, timeout=5, max_rps=10))
    exchanges = sender.deliver_many([{"n": i} for i in range(35)], concurrency=10)
    assert all(e.ok for e in exchanges)
    times = sorted(a.at for a in receiver.arrivals)
    assert len(times) == 35
    assert max(sum(start <= t <= start + 1.0 for t in times) for start in times) <= 10
    sender.close()


def test_rate_limiter_below_one_per_second() -> None:
    """A rate below 1 spaces requests 1/R seconds apart."""
    limiter = RateLimiter(0.5)
    assert limiter.capacity == 1
    assert limiter.window >= 2.0


def test_redactor_knows_every_form_of_a_secret() -> None:
    """Header values, credentials without their scheme, the userinfo password in Basic form, the query values."""
    url = "http://dlruser:p4ss%21w0rd@host.example/dlr?token=q7uery%2FSECRET&x=1"
    redactor = Redactor.for_target(url, [("Authorization", "Bearer s3cr3t-token"), ("X-Key", "k3y/+42")])
    basic = base64.b64encode(b"dlruser:p4ss!w0rd").decode()
    text = (
        f"s3cr3t-token p4ss!w0rd p4ss%21w0rd {basic} q7uery/SECRET q7uery%2FSECRET token=q7uery%2FSECRET&x=1 "
        f"k3y%2F%2B42 {json.dumps('k3y/+42')}"
    )
    masked = redactor.mask(text)
    for secret in ("s3cr3t", "p4ss", "q7uery", "k3y", basic):
        assert secret not in masked, masked
    assert masked.count(MASK) >= 9
    # values masked, names kept: a pasted reproduction needs only the values put back
    assert redactor.mask_url(url) == f"http://dlruser:{MASK}@host.example/dlr?token={MASK}&x={MASK}"


def test_requests_waiting_for_the_rate_limit_give_up_when_the_breaker_trips(
    tcp_server: Callable[..., TcpServer],
) -> None:
    """A burst held back by --max-rps is not sent once the first requests found the target unreachable."""
    server = tcp_server("never_answers")
    sender = Sender(DeliveryConfig(server.url, timeout=1, max_rps=5))
    started = time.monotonic()
    exchanges = sender.deliver_many([{"n": i} for i in range(20)], concurrency=20)
    assert time.monotonic() - started < bound(1)
    assert server.connections == sender.requests_sent == 5
    assert sum(e.error is not None and e.error.kind == "unreachable" for e in exchanges) == 15
    sender.close()


def test_endless_headers_and_status_line_end_as_not_http(tcp_server: Callable[..., TcpServer]) -> None:
    """Header lines without end, or a status line without end, stop at http.client's limits: not valid HTTP."""
    for behaviour, words in (("endless_headers", "more than 100 header lines"), ("endless_status_line", "64 KiB")):
        server = tcp_server(behaviour)
        sender = Sender(DeliveryConfig(server.url, timeout=5))
        started = time.monotonic()
        exchange = sender.deliver({"a": 1})
        assert time.monotonic() - started < bound(5)
        assert exchange.error is not None
        assert exchange.error.kind == "not_http"  # not "deadline": it ended on the cause, not the clock
        assert words in exchange.error.reason
        sender.close()
