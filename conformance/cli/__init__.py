"""The ``dlr-conformance`` command: one module per subcommand, each a thin face over the library.

``dlr-conformance [run] [options]`` runs the conformance suite (:mod:`conformance.cli.run`); the other commands
(``validate``, ``serve``, ``send``, ``stored``, ``contract``, ``load``) are modules of this package named as the
command, each with ``main(argv) -> int``. May import anything of the project; nothing imports it but tests.

Exit codes of every command: 0 conformant / done, 1 not conformant, 2 interrupted, 3 internal error,
4 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["main"]

USAGE_ERROR = 4

DEVELOPER_LOOP = """\
While you build a receiver, the developer loop in three commands:
  dlr-conformance serve --port 8080 --record capture.jsonl     # a receiver that prints and records what arrives
  dlr-conformance send http://127.0.0.1:8080/dlr --retry-interval 1   # callbacks as the platform sends them
  dlr-conformance validate capture.jsonl                        # does what arrived match the contract?"""

# Subcommands: name -> (module, one line for --help). Each module has ``main(argv) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("conformance.cli.validate", "check captured payload files against the contract"),
    "serve": ("conformance.cli.serve", "run the reference receiver (and listen: print and record what arrives)"),
    "send": ("conformance.cli.send", "send one callback like the platform, with its retry policy"),
    "stored": ("conformance.cli.stored", "print what the reference receiver stored, as a state reader"),
    "contract": ("conformance.cli.contract", "print the contract as JSON Schema, OpenAPI or AsyncAPI"),
    "load": ("conformance.cli.load", "campaign-scale load on Locust"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script (``argv`` from ``sys.argv``) and of in-process callers; returns the exit
    code, never exits."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    if command in COMMANDS:
        import importlib

        try:
            module = importlib.import_module(COMMANDS[command][0])
        except ModuleNotFoundError as exc:
            if exc.name != COMMANDS[command][0]:
                raise
            print(f"dlr-conformance: error: {command!r} is not available in this version.", file=sys.stderr)
            return USAGE_ERROR
        return _code(module.main, args[1:])
    if command == "run":
        args = args[1:]
    try:
        from conformance.cli.run import run

        code = _code(run, args)
    except KeyboardInterrupt:
        print("dlr-conformance: interrupted", file=sys.stderr)
        return 2
    return code


def _code(command: Callable[[list[str]], int], argv: list[str]) -> int:
    """The exit code of a command: what it returns, or what argparse exits with (``--help``, a usage error)."""
    try:
        return int(command(argv))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)  # what the interpreter does with a SystemExit that carries a message
        return 1
