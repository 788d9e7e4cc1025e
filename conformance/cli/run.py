"""``dlr-conformance [run]``: the conformance suite, run through pytest with its own configuration.

``dlr-conformance [options]`` runs the conformance suite (``run`` may be written first);
``dlr-conformance validate FILE... | -`` checks payloads against the contract;
``dlr-conformance serve`` runs the reference receiver.

Exit codes of a run: 0 conformant (warnings allowed), 1 not conformant, 2 interrupted, 3 internal error,
4 usage error -- pytest's own codes, which the suite maps onto these meanings.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import NoReturn

from conformance import options as opts
from conformance.cli import COMMANDS, DEVELOPER_LOOP, USAGE_ERROR

__all__ = ["run"]


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
        "-k",
        metavar="EXPR",
        dest="keyword",
        help="run only the tests whose names, requirement ids or check names match EXPR (e.g. -k generated)",
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
        # no conftest.py of the working directory or above it: a project's conftest could fail to import (its
        # framework not configured) or replace the suite's fixtures (dlr_state_reader) without a word
        "--noconftest",
        "-c",
        str(Path(__file__).resolve().parent.parent / "suite" / "suite.ini"),
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
        elif isinstance(value, tuple):  # a list given as one comma-separated value (--require-checked)
            args += [flag, ",".join(value)]
        else:
            args += [flag, str(value)]
    return args


def run(argv: list[str]) -> int:
    """Run the conformance suite; returns its exit code."""
    ns = _run_parser().parse_args(argv)
    if ns.dlr_list_checks:
        from conformance.checks.listing import catalogue

        print(catalogue())
        return 0
    if ns.dlr_seed is None:  # chosen here so that generation can start before pytest does
        ns.dlr_seed = random.SystemRandom().randrange(2**32)
    if not ns.keyword or "generated" in ns.keyword:
        from conformance.generation.worker import prestart

        prestart(ns.dlr_examples, ns.dlr_seed)
    import pytest

    # PYTEST_ADDOPTS and PYTEST_PLUGINS are for the user's own pytest sessions; the suite has its own configuration
    saved = {name: os.environ.pop(name) for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if name in os.environ}
    try:
        code = int(pytest.main(_pytest_args(ns, argv)))
    finally:
        os.environ.update(saved)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"dlr-conformance: error: -k {ns.keyword!r} selects no tests; see --list-requirements.", file=sys.stderr)
        return USAGE_ERROR
    return code
