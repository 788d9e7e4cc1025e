"""``dlr-conformance validate``: check captured callback payloads against the contract.

Usage: ``dlr-conformance validate [--format text|json] FILE...`` where a FILE of ``-`` reads standard input
(reported as ``<stdin>``); put ``--`` before a file name that starts with ``-``. Each file holds one payload, or
one per line (JSON Lines: a ``.jsonl`` or ``.ndjson`` file, or any file whose first line is a JSON document of its
own while the whole is not); a line of a ``serve --record`` capture is checked by the body it recorded. Results of
JSON Lines carry the line number: ``capture.jsonl:3: valid``.

Exit codes, as for every command: 0 when every payload is valid; 1 when any is invalid or not well-formed JSON;
2 interrupted (Ctrl-C); 4 when a file cannot be read or the arguments are wrong (4 wins over 1). Every file is
checked even after a failure, and every error of a file is reported, one line per problem.

Text output (the default), one line per finding on stdout::

    ok.json: valid
    bad.json: data[0].to: must be 7 to 15 digits, the first not 0 (got "0123")
    broken.json: not well-formed JSON at line 2, column 53: Expecting ',' delimiter

A file that cannot be read, and a usage error, is one line on stderr::

    missing.json: cannot read the file: No such file or directory; check the path

JSON output (``--format json``): one document on stdout (unreadable files are also one line on stderr)::

    {
      "valid": false,                     # true only when every file is valid
      "schema": "draft-07 sha256:...",    # contract.schema_version()
      "files": [
        {
          "file": "bad.json",             # as given on the command line; "<stdin>" for -
          "valid": false,
          "errors": [{"path": "data[0].to", "message": "must be 7 to 15 digits, ..."}],
          "malformed": null,              # or {"line": 2, "column": 53, "reason": "Expecting ',' delimiter"}
          "unreadable": null              # or the reason the file could not be read, e.g. "No such file ..."
          # "line": 3                     # only for a line of JSON Lines ("file" is then "capture.jsonl:3")
        }
      ]
    }

``errors`` is empty when the payload is malformed or unreadable (it was never validated).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from conformance.cli import USAGE_ERROR
from conformance.contract.schema import ContractError, MalformedJSON, errors, parse, schema_version

__all__ = ["Document", "FileResult", "check_file", "check_text", "documents", "main"]

PROG = "dlr-conformance validate"
STDIN = "<stdin>"


@dataclass(frozen=True)
class FileResult:
    """What validating one file found: contract errors, or why it was not JSON, or why it was not read."""

    file: str
    errors: list[ContractError] = field(default_factory=list)
    malformed: MalformedJSON | None = None
    unreadable: str | None = None
    line: int | None = None  # the line of a JSON Lines file; ``file`` then ends in ``:LINE``

    @property
    def valid(self) -> bool:
        """True when the file was read, is well-formed JSON and satisfies the contract."""
        return not self.errors and self.malformed is None and self.unreadable is None

    def lines(self) -> list[str]:
        """The text report of this file for stdout, one line per finding (empty when it was not read)."""
        if self.unreadable is not None:
            return []
        if self.malformed is not None:
            return [f"{self.file}: {self.malformed}"]
        if not self.errors:
            return [f"{self.file}: valid"]
        return [f"{self.file}: {error}" for error in self.errors]

    def as_json(self) -> dict[str, Any]:
        """The entry of this file in the ``--format json`` document."""
        bad = self.malformed
        entry = {
            "file": self.file,
            "valid": self.valid,
            "errors": [{"path": e.path, "message": e.message} for e in self.errors],
            "malformed": None if bad is None else {"line": bad.line, "column": bad.column, "reason": bad.reason},
            "unreadable": self.unreadable,
        }
        return entry if self.line is None else {**entry, "line": self.line}


def _decode(data: bytes) -> str | MalformedJSON:
    """JSON text is UTF-8 (RFC 8259); anything else is reported where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return MalformedJSON(f"byte {data[exc.start]:#04x} is not UTF-8; save the file as UTF-8", line, column)


@dataclass(frozen=True)
class Document:
    """One payload of a file: the whole file, or one line of JSON Lines (a capture line: the body it recorded)."""

    label: str  # the file, or ``file:LINE``
    raw: bytes  # the text as it is (what a replay of a malformed payload sends)
    payload: Any = None
    malformed: MalformedJSON | None = None
    line: int | None = None


JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
CAPTURE_KEYS = frozenset({"time", "body", "body_text", "body_base64"})


def _document(label: str, text: str, line: int | None = None) -> Document:
    try:
        payload = parse(text)
    except MalformedJSON as exc:
        return Document(label, text.encode("utf-8"), malformed=exc, line=line)
    if (
        isinstance(payload, dict)
        and "time" in payload
        and "data" not in payload
        and CAPTURE_KEYS & set(payload) - {"time"}
    ):
        # a line of ``serve --record``: the body it recorded is the payload
        if "body" in payload:
            return Document(label, json.dumps(payload["body"]).encode("utf-8"), payload["body"], line=line)
        if isinstance(payload.get("body_text"), str):
            return _document(label, payload["body_text"], line)
        raw = base64.b64decode(str(payload.get("body_base64", "")), validate=False)
        text_or_bad = _decode(raw)
        if isinstance(text_or_bad, MalformedJSON):
            return Document(label, raw, malformed=text_or_bad, line=line)
        return _document(label, text_or_bad, line)
    return Document(label, text.encode("utf-8"), payload, line=line)


def _first_line_alone(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        parse(first)
    except MalformedJSON:
        return False
    return first.strip() != text.strip()


def documents(label: str, data: bytes | str) -> list[Document]:
    """The payloads in a file's content: one, or one per non-empty line of JSON Lines."""
    text = _decode(data) if isinstance(data, bytes) else data
    if isinstance(text, MalformedJSON):
        return [Document(label, data if isinstance(data, bytes) else b"", malformed=text)]
    whole = _document(label, text)
    if not label.lower().endswith(JSON_LINES_SUFFIXES) and (whole.malformed is None or not _first_line_alone(text)):
        return [whole]
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [Document(label, b"", malformed=MalformedJSON("no JSON line in the file (it is empty)", 1, 1))]
    return [_document(f"{label}:{number}", line, number) for number, line in lines]


def _result(document: Document) -> FileResult:
    if document.malformed is not None:
        return FileResult(document.label, malformed=document.malformed, line=document.line)
    return FileResult(document.label, errors=errors(document.payload), line=document.line)


def check_text(label: str, data: bytes | str) -> FileResult:
    """Validate one payload given as text or bytes; ``label`` names it in the report."""
    text = _decode(data) if isinstance(data, bytes) else data
    if isinstance(text, MalformedJSON):
        return FileResult(label, malformed=text)
    return _result(_document(label, text))


def check_lines(label: str, data: bytes | str) -> list[FileResult]:
    """Validate the payloads of a file's content (one, or one per line of JSON Lines), one result each."""
    return [_result(document) for document in documents(label, data)]


def _read_problem(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{reason}; check the path"
    if isinstance(exc, IsADirectoryError):
        return f"{reason}; give a JSON file, not a folder"
    if isinstance(exc, PermissionError):
        return f"{reason}; check the file's permissions"
    return reason


def read_input(name: str) -> bytes:
    """The bytes of file ``name``, standard input for ``-``; raises OSError."""
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()


def check_file(name: str) -> list[FileResult]:
    """Validate the payloads in file ``name`` (``-`` reads standard input): one result, or one per JSON line."""
    try:
        data = read_input(name)
    except OSError as exc:
        return [FileResult(name, unreadable=_read_problem(exc))]
    return check_lines(STDIN if name == "-" else name, data)


def read_problem(exc: OSError) -> str:
    """Why a file could not be read, and what to do."""
    return _read_problem(exc)


class _UsageError(Exception):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 4 returned by :func:`main`, not printed usage."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Check delivery-report callback payloads against the contract: one JSON document per file, "
        "or one per "
        "line (JSON Lines, e.g. a serve --record capture; results then carry the line number).",
        epilog="Exit codes: 0 all valid; 1 any invalid or not well-formed JSON; 2 interrupted; 4 a file unreadable or "
        "bad arguments.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="a payload file; - reads standard input")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per finding (default); json: one machine-readable document on stdout",
    )
    return parser


def _emit(text: str) -> None:
    """Print to stdout; a reader that went away (``| head``) is not an error worth a traceback."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit; point stdout at nothing instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str]) -> int:
    """Run ``dlr-conformance validate`` with ``argv`` (the arguments after ``validate``); returns the exit code."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # a report naming an odd file must not die on encoding
            stream.reconfigure(errors="backslashreplace")
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(f"{PROG}: {exc}; see '{PROG} --help'", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else 0
    if not args.files:
        print(f"{PROG}: give at least one FILE, or - to read standard input; see '{PROG} --help'", file=sys.stderr)
        return USAGE_ERROR
    try:
        results = [result for name in args.files for result in check_file(name)]
    except KeyboardInterrupt:  # Ctrl-C while reading a file or standard input
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 2
    for result in results:
        if result.unreadable is not None:
            print(f"{result.file}: cannot read the file: {result.unreadable}", file=sys.stderr)
    if args.format == "json":
        document = {
            "valid": all(r.valid for r in results),
            "schema": schema_version(),
            "files": [r.as_json() for r in results],
        }
        _emit(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        lines = [line for result in results for line in result.lines()]
        if lines:
            _emit("\n".join(lines))
    if any(r.unreadable is not None for r in results):
        return USAGE_ERROR
    return 0 if all(r.valid for r in results) else 1
