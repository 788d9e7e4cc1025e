"""What an error answer must not show: the receiver's internals (stack traces, SQL errors, debug pages, paths).

The platform ignores the body of an answer, so an error body only ever reaches whoever sent the request: a
forger probing the URL as much as the platform. :data:`LEAKS` is the one table of what gives internals away, one
pattern each; :func:`leaks` finds them in a body, and the check ``error_answer_hides_internals`` warns on any
answer other than 200 whose body shows one, with the snippet (masked like every output). Ordinary error bodies
(``{"error": "invalid"}``, a framework's plain 404 page) match none of them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from conformance.checks.answers import CheckContext, Warned, check
from conformance.delivery.sender import Exchange

__all__ = ["LEAKS", "InternalsExposed", "Leak", "error_answer_hides_internals", "leaks"]

SNIPPET = 160  # characters of the body shown around what was found
# Every pattern bounds what it repeats ({1,300}): a 64 KiB body of a hostile receiver is scanned in about linear
# time, not re-scanned to its end from every "/" or "at " in it (an unbounded /\S+\.php took 23 s on "/a" * 30,000).


@dataclass(frozen=True)
class Leak:
    """One way an error body gives the receiver's internals away: a name, what it shows, its pattern."""

    name: str
    shows: str
    pattern: re.Pattern[str]


def _leak(name: str, shows: str, pattern: str) -> Leak:
    return Leak(name, shows, re.compile(pattern))


LEAKS: tuple[Leak, ...] = (
    # stack traces
    _leak("python-traceback", "a Python traceback", r"Traceback \(most recent call last\)"),
    _leak("python-frame", "a Python stack frame", r'File "[^"\n]{1,300}\.py", line \d+, in '),
    _leak(
        "java-frame",
        "a Java stack trace",
        r"\bat [\w$.]{1,200}\.[\w$<>]{1,100}\([\w$]{1,100}\.(?:java|kt|scala):\d+\)",
    ),
    _leak(
        "java-exception",
        "a Java exception",
        r"\b(?:java|javax|jakarta|org\.springframework)\.[\w.]{0,200}"
        r"(?:Exception|Error)\b",
    ),
    _leak(
        "php-error",
        "a PHP error",
        r"\b(?:Fatal error|Parse error|Uncaught \w+)\b.{0,300}? in /\S{1,300}\.php(?: on line |:)\d+",
    ),
    _leak("php-frame", "a PHP stack trace", r"#\d+ /\S{1,300}\.php\(\d+\): "),
    _leak("dotnet-exception", "a .NET exception", r"\bSystem\.(?:[A-Z]\w{0,100}\.){0,10}[A-Z]\w{0,100}Exception\b"),
    _leak("dotnet-frame", "a .NET stack trace", r"\bat [\w.`<>]{1,200}\([^)\n]{0,300}\) in [^\n]{1,300}:line \d+"),
    _leak("aspnet-error-page", "an ASP.NET error page", r"Server Error in '[^'\n]{0,300}' Application"),
    _leak(
        "node-frame",
        "a Node.js stack trace",
        r"\bat (?:[\w.$<>\[\] ]{1,200} \()?(?:/|node:|file:///)[^\s()]{1,300}:\d+:\d+\)?",
    ),
    _leak("ruby-frame", "a Ruby stack trace", r"/\S{1,300}\.rb:\d+:in [`']"),
    _leak("go-panic", "a Go panic", r"\bgoroutine \d+ \[[\w ]{1,100}\]:|\bpanic: .{1,300}\n{1,3}goroutine \d+"),
    # SQL errors
    _leak("sqlstate", "an SQL error (SQLSTATE)", r"\bSQLSTATE\b"),
    _leak("postgres-syntax", "a PostgreSQL error", r"syntax error at or near"),
    _leak("mysql-syntax", "a MySQL error", r"You have an error in your SQL syntax"),
    _leak("oracle-error", "an Oracle error", r"\bORA-\d{5}\b"),
    _leak(
        "sqlite-error",
        "an SQLite error",
        r"\bsqlite3?\.\w{0,100}Error\b|\bSQLITE_[A-Z]+\b|near \"[^\"\n]{0,300}\": syntax error",
    ),
    _leak(
        "mssql-error",
        "an SQL Server error",
        r"Unclosed quotation mark after the character string|Incorrect syntax near",
    ),
    _leak(
        "python-db-error",
        "a database driver's error",
        r"\b(?:psycopg2?|sqlalchemy|pymysql|MySQLdb)\.(?:\w{1,100}\.){0,10}[A-Z]\w{0,100}\b",
    ),
    # framework debug pages
    _leak(
        "django-debug", "Django's debug page", r"You're seeing this error because you have <code>DEBUG = True</code>"
    ),
    _leak(
        "laravel-whoops", "Laravel's debug page (Whoops)", r"Whoops, looks like something went wrong|Illuminate\\[A-Z]"
    ),
    _leak("rails-debug", "Rails's debug page", r"Action Controller: Exception caught|Rails\.root: /"),
    _leak(
        "werkzeug-debugger",
        "the Werkzeug debugger",
        r"Werkzeug Debugger|The debugger caught an exception in your WSGI application",
    ),
    _leak("symfony-debug", "Symfony's debug page", r"Symfony\\Component\\[A-Z]\w*"),
    # absolute file paths of the server
    _leak(
        "unix-path",
        "an absolute server file path",
        r"(?<![\w/.:~-])/(?:home|usr|var|opt|srv|app|etc|root|tmp|Users|www)/[\w.@-]{1,100}/[\w.@/-]{1,300}",
    ),
    _leak("windows-path", "an absolute server file path", r"\b[A-Z]:\\(?:[\w .-]{1,100}\\){1,30}[\w .-]{1,100}"),
)


class InternalsExposed(Warned):
    """An error answer's body shows the receiver's internals."""

    title = "An error answer exposes the receiver's internals"


def _snippet(text: str, start: int, end: int) -> str:
    before = max(0, start - (SNIPPET - (end - start)) // 2)
    piece = " ".join(text[before : before + max(SNIPPET, end - start)].split())
    return ("…" if before else "") + piece + ("…" if before + SNIPPET < len(text) else "")


@functools.lru_cache(maxsize=32)  # a receiver answers its errors with the same few bodies: each is scanned once
def leaks(body: bytes | str) -> tuple[tuple[Leak, str], ...]:
    """What gives internals away in ``body``: each leak found, with a snippet of the body around it."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    found = []
    for leak in LEAKS:
        match = leak.pattern.search(text)
        if match:
            found.append((leak, _snippet(text, match.start(), match.end())))
    return tuple(found)


@check
def error_answer_hides_internals(exchange: Exchange, ctx: CheckContext) -> None:
    """A warning, not a failure: an answer other than 200 whose body shows a stack trace, an SQL error, a debug page
    or a server file path."""
    if exchange.error is not None or exchange.status in (None, 200) or not exchange.response_body:
        return
    found = leaks(exchange.response_body)
    if found:
        shows = ", ".join(dict.fromkeys(leak.shows for leak, _ in found))
        raise InternalsExposed(
            f"the {exchange.status} answer shows {shows}: {found[0][1]!r}; answer errors with a short generic body "
            "(an error id at most) and keep the details in the receiver's own log"
        )
