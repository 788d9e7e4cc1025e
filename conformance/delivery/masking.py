"""Keeping the customer's secrets out of every output.

A :class:`Redactor` learns the secret values of a run (``--header`` values, the password in the URL's userinfo,
the URL's query string) and masks them in any text that leaves the process: console lines, reports, failure
messages and ``curl`` reproductions. Masking is by value, so a secret echoed back by the receiver is caught too,
and each secret is also known in the forms it takes on the way: URL-encoded, JSON- and HTML-escaped, the
credentials of an ``Authorization`` value without its scheme, and the Basic credentials that ``requests`` builds
from the URL's userinfo.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
import re
import shlex
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

__all__ = ["MASK", "MIN_SECRET", "Redactor"]

MASK = "***"
MIN_SECRET = 3  # shorter values are not masked: they would mask ordinary text everywhere

# Secrets in a command line (--state-cmd, --prepare-cmd): what follows these words is masked.
_SECRET_WORD = r"(?:password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|credentials?)"  # noqa: S105 - words, not a secret
_COMMAND_SECRETS = (
    re.compile(r"(?i)[a-z_]*" + _SECRET_WORD + r"[a-z_]*\s*[=:]\s*([^\s'\";&|]+)"),  # PGPASSWORD=x, password=x
    re.compile(r"(?i)--" + _SECRET_WORD + r"[a-z-]*[= ]\s*([^\s'\";&|]+)"),  # --password x, --password=x
    re.compile(r"[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:([^\s@/'\"]+)@", re.I),  # scheme://user:password@host
    re.compile(r"(?i)\b(?:mysql|mariadb|mysqldump)\b.*?\s-p([^\s'\";&|]+)"),  # mysql -pPASSWORD
    re.compile(r"(?:^|\s)(?:-u|--user)\s+['\"]?[^\s:'\"]+:([^\s'\"]+)"),  # curl -u user:password
    re.compile(r"(?i)(?:authorization|x-api-key|api-key|x-auth-token)\s*:\s*([^'\"\n]+)"),  # -H 'Authorization: ...'
)


def _forms(secret: str) -> set[str]:
    """``secret`` and the encoded forms it may take in a URL, a JSON document or an HTML page."""
    forms = {secret, unquote(secret), unquote_plus(secret)}
    for value in list(forms):
        forms |= {quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/:@!$&'()*+,;=-._~")}
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(html.escape(value, quote=True))
    return {f for f in forms if len(f) >= MIN_SECRET}


class Redactor:
    """Masks known secret values in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._ordered: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Learn a secret and its encoded forms; values shorter than 3 characters are not masked."""
        if len(secret.strip()) < MIN_SECRET:
            return
        self._secrets |= _forms(secret)
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    def add_header_value(self, value: str) -> None:
        """Learn a header value, and for ``Scheme credentials`` values the credentials alone too."""
        self.add(value)
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip()
        if credentials and scheme.isalpha():
            self.add(credentials)
            if scheme.lower() == "basic":
                self._add_basic(credentials)

    def _add_basic(self, token: str) -> None:
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return
        self.add(decoded)
        _, sep, password = decoded.partition(":")
        if sep:
            self.add(password)

    def add_command(self, command: str) -> None:
        """Learn the secrets in a shell command line: passwords in URLs, options, assignments and headers."""
        texts = [command]
        with contextlib.suppress(ValueError):  # unbalanced quotes: the patterns still see the whole line
            texts += shlex.split(command)
        for text in texts:
            for pattern in _COMMAND_SECRETS:
                for match in pattern.finditer(text):
                    value = match.group(1).strip().strip("'\"")
                    if pattern.pattern.startswith("(?i)(?:authorization"):
                        self.add_header_value(value)
                    else:
                        self.add(value)

    @classmethod
    def for_target(cls, url: str, headers: Iterable[tuple[str, str]] = ()) -> Redactor:
        """A redactor that knows the secrets in a target URL and the extra request headers."""
        redactor = cls()
        for _, value in headers:
            redactor.add_header_value(value)
        try:
            parts = urlsplit(url)
            password = parts.password
            username = parts.username or ""
        except ValueError:
            return redactor
        if password:
            redactor.add(password)
            # requests sends the userinfo as "Authorization: Basic base64(user:password)"; a receiver may echo it
            userinfo = f"{unquote(username)}:{unquote(password)}"
            redactor.add(userinfo)
            redactor.add(base64.b64encode(userinfo.encode("latin-1", "replace")).decode("ascii"))
            redactor.add(base64.b64encode(userinfo.encode("utf-8")).decode("ascii"))
        if parts.query:
            redactor.add(parts.query)
            for _, value in parse_qsl(parts.query, keep_blank_values=False):
                redactor.add(value)
        return redactor

    def mask(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***`` (longest first, so no partial leaks remain)."""
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_url(self, url: str) -> str:
        """``url`` with the userinfo password and every query value masked; parameter names are kept
        (``?token=***``), so that a reproduction needs only the values put back."""
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            return MASK
        netloc = parts.netloc
        if password is not None:
            user = netloc.rsplit("@", 1)[0].partition(":")[0]
            host = netloc.rsplit("@", 1)[1]
            netloc = f"{user}:{MASK}@{host}"
        query = "&".join(
            f"{name}={MASK}" if sep else MASK
            for name, sep, _ in (item.partition("=") for item in parts.query.split("&"))
            if name or sep
        )
        return self.mask(urlunsplit((parts.scheme, netloc, parts.path, query, "")))
