"""Transport errors in plain words, as pure logic: the exceptions ``requests`` raises, built as it chains them, each
classified by kind with the words a customer reads (tests/robustness meets the same through real sockets)."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest
import requests
import urllib3

from conformance.delivery.errors import classify

URL = "https://receiver.example:8443/dlr"


def _wrapped(inner: BaseException, outer: type[requests.RequestException] = requests.ConnectionError) -> BaseException:
    """``inner`` as requests raises it: urllib3's MaxRetryError around it, requests' own exception around that."""
    retry = urllib3.exceptions.MaxRetryError(None, "/dlr", inner)  # type: ignore[arg-type]
    return outer(retry)


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code = code
    error.verify_message = message
    return error


def _tls(code: int, message: str) -> BaseException:
    """A certificate that failed verification, as requests raises it."""
    return _wrapped(urllib3.exceptions.SSLError(_verify_error(code, message)), requests.exceptions.SSLError)


def _new_connection(cause: BaseException) -> urllib3.exceptions.NewConnectionError:
    error = urllib3.exceptions.NewConnectionError(None, f"Failed to establish a new connection: {cause}")  # type: ignore[arg-type]
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        pytest.param(
            _wrapped(_new_connection(ConnectionRefusedError(111, "Connection refused"))),
            "refused",
            "connection refused by receiver.example:8443 (nothing is listening on that port)",
            id="refused",
        ),
        pytest.param(
            _wrapped(_new_connection(socket.gaierror(-2, "Name or service not known"))),
            "dns",
            "the host name 'receiver.example' could not be resolved (Name or service not known)",
            id="dns",
        ),
        pytest.param(
            _tls(10, "certificate has expired"),
            "tls",
            "TLS certificate validation failed: the certificate has expired",
            id="expired-certificate",
        ),
        pytest.param(
            _tls(62, "Hostname mismatch"),
            "tls",
            "the certificate is for another host name: it is not valid for 'receiver.example'",
            id="wrong-host",
        ),
        pytest.param(
            _wrapped(urllib3.exceptions.ProtocolError("Connection aborted.", http.client.RemoteDisconnected("x"))),
            "closed",
            "the server closed the connection without answering",
            id="closed",
        ),
        pytest.param(
            _wrapped(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
            "reset",
            "the server reset the connection (TCP reset) instead of answering",
            id="reset",
        ),
        pytest.param(
            _wrapped(urllib3.exceptions.ProtocolError("Connection aborted.", http.client.BadStatusLine("SSH-2.0"))),
            "not_http",
            "the server's answer is not HTTP (no valid status line)",
            id="not-http",
        ),
        pytest.param(
            _wrapped(urllib3.exceptions.ReadTimeoutError(None, "/dlr", "read timed out"), requests.ReadTimeout),  # type: ignore[arg-type]
            "timeout",
            "no answer within 5 s",
            id="read-timeout",
        ),
        pytest.param(ValueError("something else"), "error", "the request could not be made (ValueError)", id="other"),
    ],
)
def test_each_failure_has_its_kind_and_its_words(error: BaseException, kind: str, words: str) -> None:
    found = classify(error, URL, 5.0, deadline_fired=False)
    assert found.kind == kind, found
    assert words in found.reason


@pytest.mark.parametrize(
    ("phase", "words"),
    [
        ("answer", "no complete answer within the 5 s deadline: the status line and headers had not fully arrived"),
        ("body", "the response body was still arriving at the 5 s deadline"),
    ],
)
def test_the_deadline_wins_over_what_the_socket_said(phase: str, words: str) -> None:
    """Shut down at the deadline, the socket reports a reset or a closed connection: the deadline is the cause."""
    error = _wrapped(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))
    found = classify(error, URL, 5.0, deadline_fired=True, phase=phase)
    assert found.kind == "deadline"
    assert found.reason.startswith(words)
