"""``dlr-conformance validate``: check captured callback payloads against the contract.

Usage: ``dlr-conformance validate [--format text|json] FILE...`` where a FILE of ``-`` reads standard input
(reported as ``<stdin>``); put ``--`` before a file name that starts with ``-``. Each file holds one payload.

Exit codes: 0 when every payload is valid; 1 when any is invalid or not well-formed JSON; 2 when a file
cannot be read or the arguments are wrong (2 wins over 1). Every file is checked even after a failure, and
every error of a file is reported, one line per problem.

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
        }
      ]
    }

``errors`` is empty when the payload is malformed or unreadable (it was never validated).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from conformance.contract import ContractError, MalformedJSON, errors, parse, schema_version

__all__ = ["FileResult", "check_file", "check_text", "main"]

PROG = "dlr-conformance validate"
STDIN = "<stdin>"


@dataclass(frozen=True)
class FileResult:
    """What validating one file found: contract errors, or why it was not JSON, or why it was not read."""

    file: str
    errors: list[ContractError] = field(default_factory=list)
    malformed: MalformedJSON | None = None
    unreadable: str | None = None

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
        return {
            "file": self.file,
            "valid": self.valid,
            "errors": [{"path": e.path, "message": e.message} for e in self.errors],
            "malformed": None if bad is None else {"line": bad.line, "column": bad.column, "reason": bad.reason},
            "unreadable": self.unreadable,
        }


def _decode(data: bytes) -> str | MalformedJSON:
    """JSON text is UTF-8 (RFC 8259); anything else is reported where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return MalformedJSON(f"byte {data[exc.start]:#04x} is not UTF-8; save the file as UTF-8", line, column)


def check_text(label: str, data: bytes | str) -> FileResult:
    """Validate one payload given as text or bytes; ``label`` names it in the report."""
    text = _decode(data) if isinstance(data, bytes) else data
    if isinstance(text, MalformedJSON):
        return FileResult(label, malformed=text)
    try:
        payload = parse(text)
    except MalformedJSON as exc:
        return FileResult(label, malformed=exc)
    return FileResult(label, errors=errors(payload))


def _read_problem(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{reason}; check the path"
    if isinstance(exc, IsADirectoryError):
        return f"{reason}; give a JSON file, not a folder"
    if isinstance(exc, PermissionError):
        return f"{reason}; check the file's permissions"
    return reason


def check_file(name: str) -> FileResult:
    """Validate the payload in file ``name`` (``-`` reads standard input)."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        return FileResult(name, unreadable=_read_problem(exc))
    return check_text(STDIN if name == "-" else name, data)


class _UsageError(Exception):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 returned by :func:`main`, not printed usage."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Check delivery-report callback payloads (one JSON document per file) against the contract.",
        epilog="Exit codes: 0 all valid; 1 any invalid or not well-formed JSON; 2 a file unreadable or bad arguments.",
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
        return 2
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else 0
    if not args.files:
        print(f"{PROG}: give at least one FILE, or - to read standard input; see '{PROG} --help'", file=sys.stderr)
        return 2

    results = [check_file(name) for name in args.files]
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
        return 2
    return 0 if all(r.valid for r in results) else 1
