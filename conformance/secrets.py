"""Keeping the customer's secrets out of every output.

A :class:`Redactor` learns the secret values of a run (``--header`` values, the password in the URL's userinfo,
the URL's query string) and masks them in any text that leaves the process: console lines, reports, failure
messages and ``curl`` reproductions. Masking is by value, so a secret echoed back by the receiver is caught too.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = ["MASK", "Redactor"]

MASK = "***"


class Redactor:
    """Masks known secret values in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Learn a secret (and its URL-decoded form); values shorter than 3 characters are not masked."""
        for value in {secret, unquote(secret)}:
            if len(value) >= 3:
                self._secrets.add(value)

    @classmethod
    def for_target(cls, url: str, headers: Iterable[tuple[str, str]] = ()) -> Redactor:
        """A redactor that knows the secrets in a target URL and the extra request headers."""
        redactor = cls(value for _, value in headers)
        parts = urlsplit(url)
        if parts.password:
            redactor.add(parts.password)
        if parts.query:
            redactor.add(parts.query)
            for _, value in parse_qsl(parts.query, keep_blank_values=False):
                redactor.add(value)
        return redactor

    def mask(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***`` (longest first, so no partial leaks remain)."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_url(self, url: str) -> str:
        """``url`` with the userinfo password and the query string masked (structure kept readable)."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user = parts.username or ""
            host = netloc.rsplit("@", 1)[1]
            netloc = f"{user}:{MASK}@{host}"
        query = MASK if parts.query else ""
        return self.mask(urlunsplit((parts.scheme, netloc, parts.path, query, "")))
