"""The credentials a run was given, and the forged requests that leave them out or alter them.

The platform signs nothing: a receiver is protected only by what its owner puts in the callback URL or the
request (a secret token in the query, Basic auth in the URL's userinfo, a header). The credentials of a run are
therefore everything it was given: every ``--header``, the user and password of ``--target-url`` (one
credential: requests sends them together as Basic auth, unless an explicit ``Authorization`` header replaces them),
and every query parameter of ``--target-url`` that
``--public-param`` does not mark as public (routing, a tenant).

A :class:`Forgery` is one request that must be refused: with no credential at all, with one credential removed
(the others kept), or with one credential's value altered (same length, every letter and digit changed within
its class).
An altered value is masked like a secret in every output: it shows the real one's length and alphabet.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["Credential", "Forgery", "alter", "find", "forgeries", "query_names"]

Kind = Literal["header", "userinfo", "query"]
_ALPHABETS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


@dataclass(frozen=True)
class Credential:
    """One credential of the run: a header, the URL's user and password, or a query parameter."""

    kind: Kind
    name: str  # the header's or the query parameter's name; the user's name for the userinfo

    @property
    def described(self) -> str:
        """How people name it: ``header X-Api-Key``, ``query parameter token``, ``user and password``."""
        if self.kind == "header":
            return f"header {self.name}"
        if self.kind == "query":
            return f"query parameter {self.name}"
        return "the URL's user and password"


@dataclass(frozen=True)
class Forgery:
    """A request to forge: the URL and headers it goes with, and what it lacks or alters (for its label)."""

    label: str
    url: str
    headers: tuple[tuple[str, str], ...]
    altered: tuple[str, ...] = ()  # the altered values it carries: secrets to mask


def query_names(url: str) -> list[str]:
    """The names of the query parameters of ``url``, in order."""
    return [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]


def find(url: str, headers: Iterable[tuple[str, str]], public: Iterable[str] = ()) -> tuple[Credential, ...]:
    """The credentials of a run: every header, the URL's userinfo, every query parameter not marked public."""
    headers = tuple(headers)
    found = [Credential("header", name) for name, _ in headers]
    parts = urlsplit(url)
    explicit = any(name.lower() == "authorization" for name, _ in headers)
    if (parts.username or parts.password) and not explicit:  # an explicit Authorization wins: the userinfo is unsent
        found.append(Credential("userinfo", unquote(parts.username or "")))
    public_names = set(public)
    seen: set[str] = set()
    for name in query_names(url):
        if name not in public_names and name not in seen:
            seen.add(name)
            found.append(Credential("query", name))
    return tuple(found)


def alter(value: str, rng: random.Random) -> str:
    """``value`` with every character changed within its own class (digit, lower case, upper case; any other
    character stays): same length, same alphabet, never the value itself."""
    out = []
    for char in value:
        alphabet = next((a for a in _ALPHABETS if char in a), "")
        out.append(rng.choice(alphabet.replace(char, "")) if alphabet else char)
    altered = "".join(out)
    if altered == value:  # nothing to change within the classes (only punctuation): reverse the case of nothing
        altered = value[::-1] if value[::-1] != value else value + "x"
    return altered


def _url(
    url: str,
    *,
    drop: Credential | None = None,
    change: tuple[Credential, str] | None = None,
    bare: bool = False,
    public: Iterable[str] = (),
) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if bare or (drop is not None and drop.kind == "userinfo"):
        userinfo = ""
    if change is not None and change[0].kind == "userinfo":
        user, _, _ = userinfo.partition(":")
        userinfo = f"{user}:{quote(change[1], safe='')}" if parts.password else quote(change[1], safe="")
    public_names = set(public)
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if bare and name not in public_names:
            continue
        if drop is not None and drop.kind == "query" and drop.name == name:
            continue
        if change is not None and change[0].kind == "query" and change[0].name == name:
            value = change[1]
        query.append((name, value))
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def _value(url: str, headers: Iterable[tuple[str, str]], credential: Credential) -> str:
    if credential.kind == "header":
        return next(value for name, value in headers if name == credential.name)
    parts = urlsplit(url)
    if credential.kind == "userinfo":
        return unquote(parts.password or parts.username or "")
    return next(value for name, value in parse_qsl(parts.query, keep_blank_values=True) if name == credential.name)


def forgeries(
    url: str, headers: tuple[tuple[str, str], ...], public: Iterable[str], rng: random.Random
) -> list[Forgery]:
    """The forged requests of a run: none without credentials; else one with no credential at all, one with each
    credential removed in turn (when there are several), and one with each credential's value altered."""
    public = tuple(public)
    found = find(url, headers, public)
    if not found:
        return []
    out = [Forgery("no credential at all", _url(url, bare=True, public=public), ())]
    if len(found) > 1:
        for credential in found:
            kept = tuple(h for h in headers if credential.kind != "header" or h[0] != credential.name)
            out.append(Forgery(f"without the {credential.described}", _url(url, drop=credential), kept))
    for credential in found:
        value = _value(url, headers, credential)
        scheme, space, secret = value.partition(" ")
        if credential.kind == "header" and space and scheme.isalpha() and secret.strip():
            altered = f"{scheme} {alter(secret, rng)}"  # Bearer TOKEN: the token altered, the scheme kept
        else:
            altered = alter(value, rng)
        if credential.kind == "header":
            changed = tuple((n, altered if n == credential.name else v) for n, v in headers)
            out.append(Forgery(f"the {credential.described} altered", url, changed, (altered,)))
        else:
            changed_url = _url(url, change=(credential, altered))
            out.append(Forgery(f"the {credential.described} altered", changed_url, headers, (altered,)))
    return out
