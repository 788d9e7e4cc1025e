"""One judging of an answer: the suite's driver, ``send`` and ``load`` ask the same checks and name the same cause in
the same words (:mod:`conformance.engine.judge`, :func:`conformance.delivery.errors.classify`).

A certificate no one trusts is the case the load once recognised by a substring of its own: here each face meets
the same untrusted server and must say the same sentence. ``send`` and the driver run in-process; ``load`` runs as
the installed command (its users live in Locust's gevent processes).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.delivery.sender import Exchange
from conformance.engine.judge import ANSWER_CHECKS, answer_text, context, delivered
from conformance.engine.run import Run
from conformance.options import RunOptions
from conformance.requirements import by_key
from tests.support.cli import invoke
from tests.support.servers import Recorder, TcpServer, answer


@pytest.fixture(scope="module")
def untrusted() -> ssl.SSLContext:
    """A server certificate issued by a CA nobody here trusts."""
    import trustme

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_the_judging_is_the_catalogues_for_a_valid_callback() -> None:
    assert by_key("answered_200").checks == ANSWER_CHECKS
    exchange = Exchange(body=b"{}", started=0.0, status=202, reason="Accepted")
    outcome = delivered(exchange, context("http://x/dlr", 10.0))
    assert not outcome.passed
    assert outcome.failures[0].check == "status_code_is_200"
    assert answer_text(exchange) == "202 Accepted"
    exchange.status, exchange.reason = 200, "OK"
    assert delivered(exchange, context("http://x/dlr", 10.0)).passed


def test_send_retries_what_the_suite_fails() -> None:
    """A 202 is a failed attempt for send because the suite's check fails it, and the suite's driver agrees."""
    with Recorder(answer(202)).start() as receiver:
        sent = invoke("send", receiver.url, "--retry-interval", "0", "--attempts", "2", "--json")
        run = Run(RunOptions(target_url=receiver.url, seed=1), receiver.url)
        try:
            outcome = run.driver(by_key("answered_200"), "judging").deliver({"api_job_id": "x", "data": []})
        finally:
            run.close()
    assert sent.code == 1, sent.output
    document = json.loads(sent.stdout)
    attempts = document["callbacks"][0]["attempts"]
    assert [a["delivered"] for a in attempts] == [False, False]
    assert not outcome.passed
    assert outcome.failures[0].check == "status_code_is_200"


@pytest.mark.slow  # the installed command, to its end
def test_an_untrusted_certificate_is_the_same_failure_for_the_suite_send_and_load(
    tmp_path: Path, untrusted: ssl.SSLContext, load: Callable[..., Any]
) -> None:
    server = TcpServer(lambda server, conn: None, tls=untrusted).start()  # the handshake is all that happens
    url = server.url
    try:
        run = Run(RunOptions(target_url=url, seed=1), url)
        try:
            outcome = run.driver(by_key("answered_200"), "tls").deliver({"api_job_id": "x", "data": []})
        finally:
            run.close()
        sent = invoke("send", url, "--retry-interval", "0", "--attempts", "1", "--json")
        done, summary = load(tmp_path, "--target-url", url, "--rate", "4", "--duration", "2s", "-q", "--seed", "1")
    finally:
        server.close()
    suite_says = outcome.exchange.error.reason if outcome.exchange.error else ""
    assert suite_says.startswith("TLS certificate validation failed: "), suite_says
    assert outcome.failures[0].title == "TLS certificate validation failed"
    assert sent.code == 1
    send_says = json.loads(sent.stdout)["callbacks"][0]["attempts"][0]["cause"]
    assert send_says == suite_says
    assert done.code == 1, done.output
    answers = summary["answers"]
    assert list(answers) == [f"no answer: {suite_says}"], answers
