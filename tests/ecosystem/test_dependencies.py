"""The reasons behind the pins in pyproject.toml hold for the versions installed (docs/dependencies.md).

``transport.py`` relies on two internals of urllib3 2.x: ``HTTPConnection._new_conn`` (called by ``connect`` to
open the socket, overridden so that name resolution and every connect attempt end at the delivery's deadline) and
``HTTPConnection._dns_host`` (the name to resolve). If a urllib3 release stops calling the one or renames the other,
these tests fail before any customer's run silently loses its deadline on DNS and connect.
"""

from __future__ import annotations

import time
from importlib.metadata import requires, version

import pytest
import requests
import urllib3
from packaging.requirements import Requirement
from pytest_httpserver import HTTPServer
from urllib3.connection import HTTPConnection

from conformance.delivery import transport


def _session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", transport.Adapter(max_retries=0))
    return session


def test_installed_urllib3_is_within_the_pin() -> None:
    (pin,) = [Requirement(r) for r in requires("dlr-conformance") or [] if Requirement(r).name == "urllib3"]
    assert pin.specifier.contains(version("urllib3")), (pin, version("urllib3"))
    assert urllib3.__version__ == version("urllib3")


def test_urllib3_keeps_the_internals_the_deadline_uses() -> None:
    connection = HTTPConnection("example.invalid", 80)
    assert connection._dns_host == "example.invalid"
    assert callable(getattr(HTTPConnection, "_new_conn", None))


def test_connect_goes_through_the_overridden_new_conn() -> None:
    """A name under .invalid fails in the override, at once and with its own words: urllib3 called ``_new_conn``."""
    transport.current.deadline = transport.Deadline(time.monotonic() + 5)
    try:
        with pytest.raises(requests.ConnectionError, match=r"reserved \.invalid domain"):
            _session().post("http://no-such-host.invalid/dlr", json={}, timeout=5)
    finally:
        transport.current.deadline = None


def test_the_deadline_sees_the_socket_of_a_delivery(httpserver: HTTPServer) -> None:
    """The socket opened by the override is reported to the deadline, which can therefore shut it down."""
    httpserver.expect_request("/dlr", method="POST").respond_with_data("")
    deadline = transport.Deadline(time.monotonic() + 5)
    transport.current.deadline = deadline
    try:
        assert _session().post(httpserver.url_for("/dlr"), json={}, timeout=5).status_code == 200
    finally:
        transport.current.deadline = None
    assert deadline.sockets, "urllib3 opened the connection without the override"
