"""What went wrong with a delivery, in plain words: whatever ``requests`` raised, as a :class:`TransportError`."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3

__all__ = ["TransportError", "classify"]


@dataclass(frozen=True)
class TransportError:
    """Why no complete HTTP answer came back: a kind (``timeout``, ``tls``, ...) and a plain-English reason."""

    kind: str
    reason: str


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it (causes, contexts, urllib3 reasons, wrapped first arguments)."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 50:
        current = todo.pop(0)
        if any(current is seen for seen in out):
            continue
        out.append(current)
        for nxt in (
            getattr(current, "reason", None),
            current.__cause__,
            current.__context__,
            *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)],
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return out


# OpenSSL verification codes (X509_V_ERR_*) and what they mean for a customer
_TLS_VERIFY = {
    18: "the certificate is self-signed, not issued by a trusted certificate authority",
    19: "the certificate chain ends in a self-signed certificate that is not trusted",
    10: "the certificate has expired",
    9: "the certificate is not yet valid",
    62: "the certificate is for another host name",
    64: "the certificate is for another host name (IP address mismatch)",
    20: (
        "the certificate is not issued by a trusted certificate authority (for a private CA, pass its certificate "
        "with --ca-bundle)"
    ),
    2: "the certificate's issuer is not trusted (for a private CA, pass its certificate with --ca-bundle)",
    21: "the certificate could not be verified: the server sent no complete chain to a trusted CA",
    23: "the certificate has been revoked",
}
_NOT_HTTP = {
    "BadStatusLine": "the server's answer is not HTTP (no valid status line)",
    "LineTooLong": "the server's answer is not valid HTTP (a status or header line over 64 KiB)",
    "UnknownProtocol": "the server's answer is not HTTP/1.x",
    "HeaderParsingError": "the server's answer has malformed headers",
}


def _tls_reason(chain: list[BaseException], host: str) -> str:
    for exc in chain:
        if isinstance(exc, ssl.SSLCertVerificationError):
            code = exc.verify_code
            detail = _TLS_VERIFY.get(code) or f"certificate verification failed ({exc.verify_message})"
            if code in (62, 64):
                detail += f": it is not valid for {host!r}"
            return f"TLS certificate validation failed: {detail}; the platform treats this callback as failed"
    for exc in chain:
        if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError):
            what = (exc.reason or type(exc).__name__).replace("_", " ").lower()
            return (
                f"the TLS handshake failed ({what}); is the target serving https on that port? "
                "The platform treats this callback as failed"
            )
    return "the TLS handshake failed (the server ended the connection); the platform treats this callback as failed"


def classify(
    exc: BaseException, url: str, timeout: float, deadline_fired: bool, *, phase: str = "answer"
) -> TransportError:
    """Turn whatever ``requests`` raised into a plain-English :class:`TransportError`.

    ``phase`` is how far the answer got: ``answer`` (no status line and headers yet) or ``body``.
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    if deadline_fired:
        if phase == "body":
            return TransportError(
                "deadline",
                f"the response body was still arriving at the {timeout:g} s deadline "
                "(the server sends it too slowly, or never ends it)",
            )
        return TransportError(
            "deadline",
            f"no complete answer within the {timeout:g} s deadline: the status line and "
            "headers had not fully arrived (the server did not answer, or too slowly)",
        )
    if any(isinstance(e, socket.gaierror | urllib3.exceptions.NameResolutionError) for e in chain):
        gai = next((e for e in chain if isinstance(e, socket.gaierror)), None)
        why = f" ({gai.strerror})" if gai is not None and gai.strerror else ""
        return TransportError("dns", f"the host name {host!r} could not be resolved{why}")
    if any(isinstance(e, ssl.SSLError | requests.exceptions.SSLError | urllib3.exceptions.SSLError) for e in chain):
        return TransportError("tls", _tls_reason(chain, host))
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return TransportError("refused", f"connection refused by {host}:{port} (nothing is listening on that port)")
    if any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError | requests.exceptions.ConnectTimeout)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return TransportError("timeout", f"no connection to {host}:{port} within {timeout:g} s")
    if "RemoteDisconnected" in names or any("without response" in str(e) for e in chain):
        # before resets: http.client's RemoteDisconnected is a ConnectionResetError too
        return TransportError("closed", "the server closed the connection without answering")
    if any(isinstance(e, ConnectionResetError | BrokenPipeError | ConnectionAbortedError) for e in chain):
        return TransportError("reset", "the server reset the connection (TCP reset) instead of answering")
    for name, reason in _NOT_HTTP.items():
        if name in names:
            return TransportError("not_http", reason)
    if "HTTPException" in names and any("got more than" in str(e) for e in chain):
        return TransportError("not_http", "the server's answer is not valid HTTP (more than 100 header lines)")
    if "IncompleteRead" in names or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return TransportError(
            "protocol", "the answer broke off: the server closed the connection before the end of the body"
        )
    if any(
        isinstance(e, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError | TimeoutError)
        for e in chain
    ):
        return TransportError("timeout", f"no answer within {timeout:g} s")
    if any(isinstance(e, urllib3.exceptions.ProtocolError) for e in chain):
        return TransportError("protocol", "the answer broke off or is not valid HTTP")
    if any(isinstance(e, requests.exceptions.ConnectionError | OSError) for e in chain):
        root = chain[-1]
        return TransportError("connection", f"the connection failed ({type(root).__name__})")
    return TransportError("error", f"the request could not be made ({type(exc).__name__})")
