"""The ``dlr-conformance`` command: a thin face over the pytest suite and the library.

``dlr-conformance [options]`` runs the conformance suite (``run`` may be written first);
``dlr-conformance validate FILE... | -`` checks payloads against the contract;
``dlr-conformance serve`` runs the reference receiver.

Exit codes of a run: 0 conformant (warnings allowed), 1 not conformant, 2 interrupted, 3 internal error,
4 usage error -- pytest's own codes, which the suite maps onto these meanings.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import NoReturn

from conformance import options as opts

__all__ = ["main"]

USAGE_ERROR = 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits with ``exit_code``."""

    def __init__(self, *args: object, exit_code: int = USAGE_ERROR, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.exit_code = exit_code

    def error(self, message: str) -> NoReturn:
        self.exit(self.exit_code, f"{self.prog}: error: {one_line(message)}\n")


class _Version(argparse.Action):
    """``--version``: the version is looked up only when asked (importlib.metadata is slow to import)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from conformance import __version__

        print(f"dlr-conformance {__version__}")
        parser.exit(0)


def one_line(message: str) -> str:
    """argparse's ``argument --x: must be ...`` as ``--x must be ...``, on one line, with a pointer to --help."""
    message = " ".join(message.split())
    if message.startswith("argument "):
        flag, sep, rest = message[len("argument ") :].partition(": ")
        if sep:
            flag = flag.split("/")[-1]
            message = f"{flag} {rest}" if rest.startswith(("must ", "has ", "is ")) else f"{flag}: {rest}"
    if message.startswith(("unrecognized arguments", "the following arguments are required")):
        message += " (see dlr-conformance --help)"
    return message.rstrip(".") + "."


def _run_parser() -> _Parser:
    parser = _Parser(
        prog="dlr-conformance",
        description="Test a delivery-report callback receiver against the platform's contract. With no "
        "--target-url, the bundled reference receiver is tested.",
        epilog="Other commands (each with its own --help):\n"
        + "\n".join(f"  dlr-conformance {name:9} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\n"
        + DEVELOPER_LOOP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in opts.OPTIONS:
        kwargs: dict[str, object] = {"dest": option.dest, "help": option.help, "default": option.default}
        for key in ("action", "type", "metavar"):
            if getattr(option, key) is not None:
                kwargs[key] = getattr(option, key)
        parser.add_argument(*option.flags, **kwargs)  # type: ignore[arg-type]
    parser.add_argument(
        "--html",
        metavar="PATH",
        default=opts.DEFAULT_HTML,
        type=opts.report_path,
        help=f"path of the HTML report (default: {opts.DEFAULT_HTML})",
    )
    parser.add_argument(
        "--junitxml",
        metavar="PATH",
        default=opts.DEFAULT_JUNIT,
        type=opts.report_path,
        help=f"path of the JUnit XML report (default: {opts.DEFAULT_JUNIT})",
    )
    parser.add_argument(
        "-k", metavar="EXPR", dest="keyword", help="run only the checks whose test names match EXPR (e.g. -k generated)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="less console output, no progress line")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    return parser


def _pytest_args(ns: argparse.Namespace, argv: list[str]) -> list[str]:
    """The pytest command line for a run; option values are passed on as given, the plugin re-validates them."""
    args = [
        "--pyargs",
        "conformance.suite",
        # Exactly the plugins the suite needs, whatever else the environment has installed (randomly, xdist,
        # schemathesis ...): another plugin must not reorder, parallelise or slow down a conformance run.
        "--disable-plugin-autoload",
        "-p",
        "dlr_conformance",
        "-p",
        "html",
        "-p",
        "metadata",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:unraisableexception",  # two forced gc.collect() passes at exit, for leaks the suite cannot have
        "-o",
        "addopts=",
        "-o",
        "python_files=test_*.py",
        "-o",
        "filterwarnings=",
        "--rootdir",
        ".",
        "-c",
        str(Path(__file__).with_name("suite") / "suite.ini"),
        "--assert=plain",
        # the plugin's own account ends the output (each cause once, the table, the verdict): no per-test
        # tracebacks, no short summary, no pytest stats line after the verdict
        "-rN",
        "--tb=no",
        "-qqq" if ns.quiet else "-qq",
        *(["-p", "no:dlr_progress"] if ns.quiet else []),  # -q: no progress line either
        "--html",
        ns.html,
        "--self-contained-html",
        "--junitxml",
        ns.junitxml,
    ]
    args += ["--dlr-json", ns.dlr_json or opts.DEFAULT_JSON]
    if ns.keyword:
        args += ["-k", ns.keyword]
    for option in opts.OPTIONS:
        if option.dest in {"dlr_json", "dlr_list_checks"}:
            continue
        value = getattr(ns, option.dest)
        if value is None or (value == option.default and option.action != "append"):
            continue
        flag = option.plugin_flag
        if option.dest == "dlr_headers":
            args += [a for name, val in value for a in (flag, f"{name}: {val}")]
        elif option.action == "store_true":
            args.append(flag)
        elif option.action == "append":
            args += [a for item in value for a in (flag, str(item))]
        else:
            args += [flag, str(value)]
    return args


def run(argv: list[str]) -> int:
    """Run the conformance suite; returns its exit code."""
    ns = _run_parser().parse_args(argv)
    if ns.dlr_list_checks:
        from conformance.checks import catalogue

        print(catalogue())
        return 0
    if ns.dlr_seed is None:  # chosen here so that generation can start before pytest does
        ns.dlr_seed = random.SystemRandom().randrange(2**32)
    if not ns.keyword or "generated" in ns.keyword:
        from conformance.worker import prestart

        prestart(ns.dlr_examples, ns.dlr_seed)
    import pytest

    code = int(pytest.main(_pytest_args(ns, argv)))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"dlr-conformance: error: -k {ns.keyword!r} selects no checks; see --list-checks.", file=sys.stderr)
        return USAGE_ERROR
    return code


DEVELOPER_LOOP = """\
While you build a receiver, the developer loop in three commands:
  dlr-conformance serve --port 8080 --record capture.jsonl     # a receiver that prints and records what arrives
  dlr-conformance send http://127.0.0.1:8080/dlr --retry-interval 1   # callbacks as the platform sends them
  dlr-conformance validate capture.jsonl                        # does what arrived match the contract?"""

# Subcommands: name -> (module, one line for --help). Each module has ``main(argv) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("conformance.validation", "check captured payload files against the contract"),
    "serve": ("conformance.serve", "run the reference receiver (and listen: print and record what arrives)"),
    "send": ("conformance.send", "send one callback like the platform, with its retry policy"),
    "stored": ("conformance.stored", "print what the reference receiver stored, as a state reader"),
    "contract": ("conformance.export", "print the contract as JSON Schema, OpenAPI or AsyncAPI"),
    "load": ("conformance.load", "campaign-scale load on Locust"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code.

    Called as the console script (no ``argv``), a suite run that ended normally leaves the process at once (see
    :func:`_leave`); called with ``argv`` (tests, embedding), it only returns the code.
    """
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
        return int(module.main(args[1:]))
    if command == "run":
        args = args[1:]
    try:
        code = run(args)
    except KeyboardInterrupt:
        print("dlr-conformance: interrupted", file=sys.stderr)
        return 2
    if argv is None:
        _leave(code)
    return code


def _leave(code: int) -> None:
    """End the process now that the run is over and its reports are written, skipping the interpreter's teardown.

    Tearing down the ~800 modules pytest, requests and the reports loaded takes ~0.1 s, a twentieth of a
    1,000-example run, and does nothing a finished run needs: the exit handlers still run (the generator worker
    is stopped, logging flushed) and the standard streams are flushed. Only when no other non-daemon thread is
    alive (one could still be writing); otherwise the process ends the ordinary way.
    """
    import atexit
    import contextlib
    import os
    import threading

    if any(t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: what was lost is lost either way
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
