"""Never a pass without evidence, never a fail without cause: the verdict of runs against endpoints that give none.

A requirement passes only on deliveries that were made and answered; a run that judged nothing is an error; a large
but finite body (the platform ignores the body) is at most a warning, while a body that never ends fails.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.checks.answers import CheckContext, run_checks
from conformance.delivery.sender import Exchange, TransportError
from conformance.requirements import CATALOGUE

if TYPE_CHECKING:
    from tests.robustness.conftest import Pki
    from tests.support.runs import SuiteRun
    from tests.support.servers import TcpServer

TIMEOUT = "2"


def _rows(run: SuiteRun) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in run.summary["requirements"]}


def _dlr12_failures(run: SuiteRun) -> list[dict[str, Any]]:
    return [f for f in run.summary["failures"] if f["requirement"] == "DLR-12"]


def test_a_delivery_not_sent_or_not_answered_never_passes_any_requirement() -> None:
    """Whatever checks a requirement names (DLR-12 names only the certificate's), no answer is no pass."""
    ctx = CheckContext(timeout=1, latency_budget=1, https=True)
    for kind, reason in (
        ("unreachable", "not sent: the target is unreachable (3 deliveries in a row got no usable answer)"),
        ("refused", "connection refused"),
        ("interrupted", "not sent: the run was interrupted"),
    ):
        exchange = Exchange(body=b"{}", started=0.0, error=TransportError(kind, reason))
        # every requirement's checks, and none at all (a scenario-level requirement may name no exchange check)
        for checks in [*(requirement.checks for requirement in CATALOGUE), ()]:
            outcome = run_checks(exchange, ctx, checks)
            assert not outcome.passed, (checks, kind)
            assert reason in outcome.failures[0].received
        assert run_checks(exchange, ctx, ()).failures[0].check == "delivery_answered"


def test_self_signed_certificate_fails_dlr12_in_a_full_run(
    pki: Pki, tcp_server: Callable[..., TcpServer], cli: Callable[..., SuiteRun]
) -> None:
    """The certificate's own delivery goes first, before anything trips the breaker; DLR-12 fails by its check."""
    server = tcp_server("answers_200", tls=pki.self_signed)
    run = cli("--target-url", server.url, "--timeout", TIMEOUT, "--examples", "5")
    assert run.code == 1, run.stdout[-3000:]
    assert run.summary["verdict"] == "not_conformant"
    assert _rows(run)["DLR-12"]["state"] == "failed"
    failures = _dlr12_failures(run)
    assert {f["check"] for f in failures} == {"certificate_validates"}
    assert {f["title"] for f in failures} == {"TLS certificate validation failed"}
    assert "self-signed" in failures[0]["message"]
    assert "DLR-12 MUST   failed (MUST)" in run.stdout


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_https_selection_against_a_closed_port_fails(cli: Callable[..., SuiteRun]) -> None:
    """``-k https`` against a closed https port: no handshake, so no certificate seen: DLR-12 fails, exit 1."""
    run = cli("--target-url", f"https://127.0.0.1:{_closed_port()}/dlr", "--timeout", TIMEOUT, "-k", "https")
    assert run.code == 1, run.stdout[-3000:]
    summary = run.summary
    assert summary["verdict"] == "not_conformant"
    assert _rows(run)["DLR-12"]["state"] == "failed"
    assert "connection refused" in _dlr12_failures(run)[0]["message"]
    assert summary["complete"] is False  # only DLR-12 ran


def test_https_selection_against_an_http_target_judges_nothing(
    tcp_server: Callable[..., TcpServer], cli: Callable[..., SuiteRun]
) -> None:
    """``-k https`` against an http target: the only selected check does not apply, so the verdict is error, exit 3."""
    server = tcp_server("answers_200")
    run = cli("--target-url", server.url, "-k", "https")
    assert run.code == 3, run.stdout[-3000:]
    summary = run.summary
    assert summary["verdict"] == "error"
    assert summary["requests_sent"] == 0
    assert "nothing was judged" in summary["explanation"]
    assert _rows(run)["DLR-12"]["state"] == "not_checked"
    assert "verdict: ERROR" in run.stdout
    assert server.connections == 0


def test_a_large_finite_body_is_a_warning_not_a_failure(
    tcp_server: Callable[..., TcpServer], cli: Callable[..., SuiteRun]
) -> None:
    """ "The body of the response is ignored": a complete 200 with a 200 KiB body is conformant, with warnings."""
    server = tcp_server("large_body")
    run = cli("--target-url", server.url, "--timeout", "5", "-k", "documented-example or minimal-valid")
    assert run.code == 0, run.stdout[-3000:]
    summary = run.summary
    assert summary["verdict"] == "conformant_with_warnings"
    assert summary["failures"] == []
    assert {w["check"] for w in summary["warnings"]} == {"body_within_cap"}
    assert all("200 KiB body" in w["message"] for w in summary["warnings"])
    assert {_rows(run)[r]["state"] for r in ("DLR-01", "DLR-02")} == {"warnings"}


def test_an_endless_body_fails_at_the_deadline(
    tcp_server: Callable[..., TcpServer], cli: Callable[..., SuiteRun]
) -> None:
    """A body that does not end within the deadline fails the delivery (no complete answer)."""
    server = tcp_server("endless_body")
    run = cli("--target-url", server.url, "--timeout", "1", "-k", "documented-example")
    assert run.code == 1, run.stdout[-3000:]
    (failure,) = run.summary["failures"]
    assert (failure["check"], failure["title"]) == ("transport_succeeds", "No complete answer within the deadline")
    assert "the response body was still arriving" in failure["message"]


def test_fewer_requests_sent_than_announced_says_why(
    tcp_server: Callable[..., TcpServer], cli: Callable[..., SuiteRun]
) -> None:
    """The breaker spares the target: the run says how many were not sent, and why, in the console and the JSON."""
    server = tcp_server("never_answers")
    run = cli("--target-url", server.url, "--timeout", "1", "-k", "case_answered and DLR-04")
    summary = run.summary
    assert summary["requests_sent"] == 3
    not_sent = summary["requests_not_sent"]
    assert not_sent == {"the target was unreachable": summary["requests_planned"] - 3}
    assert f"3 of {summary['requests_planned']} planned (not sent: " in run.stdout
