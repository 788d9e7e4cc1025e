"""The credentials of a run and the forged requests built from them, as pure logic."""

from __future__ import annotations

import random
import string

import pytest

from conformance.delivery.credentials import Credential, alter, find, forgeries

URL = "https://user:pa55word@h.example/dlr?tenant=acme&token=Tk9xQ2&region=eu"
HEADERS = (("X-Api-Key", "ak_4f9Q2x"), ("X-Auth", "Bearer abcDEF123"))


def test_every_header_the_userinfo_and_every_query_parameter_but_the_public_ones_are_credentials() -> None:
    assert find(URL, HEADERS, ("tenant", "region")) == (
        Credential("header", "X-Api-Key"),
        Credential("header", "X-Auth"),
        Credential("userinfo", "user"),
        Credential("query", "token"),
    )
    assert find("https://h.example/dlr?tenant=acme", (), ("tenant",)) == ()
    assert find("https://h.example/dlr", ()) == ()


@pytest.mark.parametrize("value", ["Tk9xQ2", "ak_live_4f9Q2x", "0123456789", "a-b.c~D", "z"])
def test_an_altered_value_keeps_length_and_classes_and_changes_every_letter_and_digit(value: str) -> None:
    altered = alter(value, random.Random(1))
    assert len(altered) == len(value)
    assert altered != value
    for a, b in zip(altered, value, strict=True):
        for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
            if b in alphabet:
                assert a in alphabet
                assert a != b
        if not b.isalnum():
            assert a == b


def test_forgeries_leave_out_or_alter_one_credential_at_a_time() -> None:
    found = forgeries(URL, HEADERS, ("tenant", "region"), random.Random(3))
    labels = [f.label for f in found]
    assert labels[0] == "no credential at all"
    assert found[0].url == "https://h.example/dlr?tenant=acme&region=eu"
    assert found[0].headers == ()
    assert len(found) == 1 + 4 + 4  # none, each of the four removed, each of the four altered
    for forgery in found[1:]:
        real = [
            "token=Tk9xQ2" in forgery.url,
            "pa55word@" in forgery.url,
            *(header in forgery.headers for header in HEADERS),
        ]
        assert real.count(False) == 1, forgery  # exactly one credential left out or altered
    bearer = next(f for f in found if f.label == "the header X-Auth altered")
    value = dict(bearer.headers)["X-Auth"]
    assert value.startswith("Bearer ")  # the scheme kept
    assert value != "Bearer abcDEF123"  # the token altered
    assert bearer.altered == (value,)


def test_an_explicit_authorization_header_replaces_the_userinfo() -> None:
    """The userinfo is not sent beside an explicit Authorization header (as with curl): it is no credential."""
    found = find(URL, (("authorization", "Bearer abcDEF123"),), ("tenant", "region", "token"))
    assert found == (Credential("header", "authorization"),)


def test_one_credential_gives_no_separate_removal() -> None:
    found = forgeries("https://h.example/dlr?token=Tk9xQ2", (), (), random.Random(3))
    assert [f.label for f in found] == ["no credential at all", "the query parameter token altered"]
    assert found[0].url == "https://h.example/dlr"
