"""``dlr-conformance load``: campaign-scale load on Locust -- will the receiver keep up when a campaign's reports
come back?

``dlr-conformance load --target-url URL --rate R --duration D`` sends R campaign callbacks a second for D (``90s``,
``10m``), and passes (exit 0) when the rate was held with every answer exactly 200 within the deadline; otherwise
it fails (exit 1) and says when and how the receiver broke. ``--ramp`` steps the rate up by R every ``--step``
until the receiver stops holding it and reports the highest rate held.

This module only prepares and watches: it validates the options, draws the callback templates from the contract
(``campaign.py``), and runs Locust as its own process (``python -m locust -f conformance/locustfile.py``) -- Locust
monkey-patches the standard library with gevent, which must happen before any other network import in the
process that runs the users, so it never runs inside this one (or inside pytest). Locust writes its HTML report
(rate, response times and failures over time, as charts); the locustfile writes the JSON summary and the JUnit
file; this module masks secrets in all three and maps the verdict onto the exit code (0 held, 1 not held,
2 interrupted, 3 internal error or a rate this machine could not send, 4 usage error). Locust is an extra:
``pip install '.[load]'`` in a checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from conformance import __version__
from conformance import options as opts
from conformance.delivery.masking import Redactor
from conformance.load.traffic import CAP
from conformance.options import ExitCode
from conformance.reporting.verdict import Verdict
from conformance.requirements import by_key, ids_text, judged_by_load

if TYPE_CHECKING:
    from conformance.load.outputs import LoadResult

__all__ = ["duration", "main"]

PROG = "dlr-conformance load"
DEFAULT_HTML = "reports/load.html"
DEFAULT_JSON = "reports/load-summary.json"
DEFAULT_JUNIT = "reports/load-junit.xml"
LOCUSTFILE = Path(__file__).resolve().parent.parent / "load" / "locustfile.py"
# the package is not on an index: the extra comes from the checkout, or from the git URL it was installed from
INSTALL = "pip install '.[load]' in a checkout, or 'dlr-conformance[load] @ git+URL@TAG' (docs/getting-started.md)"
_LOST, _ONCE = by_key("nothing_lost").id, by_key("processed_once").id  # what load judges of the stored state
NO_READER = (
    f"no state reader was given, so whether the reports answered 200 were stored ({_LOST}) and retries processed once "
    f"({_ONCE}) is unknown; give one with --state-cmd 'COMMAND' (docs/how-to/state.md)"
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def duration(text: str) -> float:
    """``90s``, ``10m``, ``1h``, ``1.5m`` or a number of seconds -> seconds (more than 0)."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"must be a duration such as 90s, 10m or 1h (got {text!r})")
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    return float(match.group(1)) * factor


def _parser() -> argparse.ArgumentParser:
    parser = opts.UsageParser(
        prog=PROG,
        description="Campaign-scale load on Locust: send R contract-valid campaign callbacks per second for a "
        "duration and check that every one is answered 200 within the deadline. Exit codes: 0 held, 1 not held, "
        "2 interrupted, 3 internal error or a rate this machine could not send, 4 usage error.",
        epilog="Several machines: on the master, add --master --expect-workers N; on each worker machine run "
        f"'{PROG} --worker --master-host MASTER'. Needs Locust: {INSTALL}",
    )
    add = parser.add_argument
    opts.TARGET_URL.add_to(parser)
    add("--rate", type=opts.positive_float, default=50.0, metavar="R", help="callbacks per second (default 50)")
    add("--duration", type=duration, default=60.0, metavar="D", help="how long: 90s, 10m, 1h (default 60s)")
    add("--ramp", action="store_true", help="step the rate up by R every --step until the receiver stops holding it")
    add("--step", type=duration, default=10.0, metavar="D", help="length of one ramp step (default 10s)")
    opts.TIMEOUT.add_to(parser)
    opts.HEADER.add_to(parser)
    opts.CA_BUNDLE.add_to(parser)
    add(
        "--connections",
        type=opts.positive_int,
        metavar="N",
        help="concurrent connections (Locust users) that send R callbacks/s, each paced to R/N (default: one per "
        f"20 callbacks/s, at most {CAP} per sending process: more only slow one process down); with --ramp, N more "
        "each step",
    )
    add("--processes", type=opts.positive_int, default=1, metavar="N", help="Locust worker processes on this machine")
    add("--master", action="store_true", help="be the master of workers on other machines (see --expect-workers)")
    add("--expect-workers", type=opts.positive_int, default=1, metavar="N", help="workers the master waits for")
    add("--master-bind-port", type=opts.positive_int, default=5557, metavar="PORT", help="the master's port")
    add("--worker", action="store_true", help="be a worker of the master at --master-host")
    add("--master-host", default="127.0.0.1", metavar="HOST", help="where the master runs (with --worker)")
    add("--master-port", type=opts.positive_int, default=5557, metavar="PORT", help="the master's port (--worker)")
    add(
        "--seed",
        type=opts.seed,
        metavar="N",
        help="seed of the traffic: the templates and each connection's callbacks (default: random)",
    )
    opts.add_state_reader(
        parser,
        f"what the receiver stored, after the load ({ids_text(judged_by_load())})",
        f"after the load, every message answered 200 must be stored ({_LOST}) and every retry processed once ({_ONCE})",
        "seconds to wait for the stored state to become right, polling the reader (default: 10)",
    )
    add("--html", type=opts.report_path, default=DEFAULT_HTML, metavar="PATH", help="Locust's HTML report")
    add("--json", type=opts.report_path, default=DEFAULT_JSON, metavar="PATH", help="the JSON summary")
    add("--junitxml", type=opts.report_path, default=DEFAULT_JUNIT, metavar="PATH", help="the JUnit file")
    add("-q", "--quiet", action="store_true", help="only the verdict")
    return parser


def _locust_command(ns: argparse.Namespace, masked: str, run_id: str, work: Path) -> list[str]:
    """Locust's command line: nothing secret on it (``ps`` shows it to every user of the machine); the target URL
    and the header values go in the environment (:func:`_locust_env`)."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "ERROR"]
    if ns.worker:
        return [*command, "--worker", "--master-host", ns.master_host, "--master-port", str(ns.master_port)]
    command += ["--headless", "--only-summary", "--html", ns.html, "--exit-code-on-error", "0"]
    if ns.master:
        command += [
            "--master",
            "--expect-workers",
            str(ns.expect_workers),
            "--master-bind-port",
            str(ns.master_bind_port),
        ]
    elif ns.processes > 1:
        command += ["--processes", str(ns.processes)]
    command += [
        "--dlr-rate", repr(ns.rate),
        "--dlr-duration", repr(ns.duration),
        "--dlr-step", repr(ns.step),
        "--dlr-timeout", repr(ns.dlr_timeout),
        "--dlr-connections", str(ns.connections or 0),
        "--dlr-processes", str(ns.expect_workers if ns.master else ns.processes),
        "--dlr-ca-bundle", ns.dlr_ca_bundle or "",
        "--dlr-run-id", run_id,
        "--dlr-user-agent", f"dlr-conformance/{__version__} (load test run {run_id})",
        "--dlr-seed", str(ns.seed),
        "--dlr-templates", str(work / "templates.json"),
        "--dlr-json", ns.json,
        "--dlr-junit", ns.junitxml,
        "--dlr-target", masked,
        "--dlr-interrupted", str(work / "interrupted"),
    ]  # fmt: skip
    if ns.ramp:
        command.append("--dlr-ramp")
    if ns.dlr_state_cmd:
        command += ["--dlr-ledger", str(work / "ledger.tsv")]
    return command


def _locust_env(url: str, headers: list[tuple[str, str]]) -> dict[str, str]:
    """Locust's environment: the target URL and the extra headers (readable by this user only, unlike argv)."""
    from conformance.load.outputs import HEADERS_ENV

    env = {**os.environ, HEADERS_ENV: json.dumps(headers)}
    if url:
        env["LOCUST_HOST"] = url
    return env


def _pump(stream: IO[str], redactor: Redactor, quiet: bool) -> None:
    for line in stream:
        if not quiet:
            sys.stdout.write(redactor.mask(line))
            sys.stdout.flush()


def _mask_file(path: str, redactor: Redactor) -> None:
    with contextlib.suppress(OSError):
        text = Path(path).read_text(encoding="utf-8")
        masked = redactor.mask(text)
        if masked != text:
            Path(path).write_text(masked, encoding="utf-8")


def _run_locust(
    command: list[str], env: dict[str, str], redactor: Redactor, quiet: bool, marker: Path
) -> tuple[int, bool]:
    """Run Locust in its own process group; Ctrl-C is passed on to it (it writes its reports) -> (code, interrupted)."""
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    assert process.stdout is not None
    pump = threading.Thread(target=_pump, args=(process.stdout, redactor, quiet), daemon=True)
    pump.start()
    interrupted = False
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:
            interrupted = True
            marker.touch()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                code = process.wait(timeout=30)
                break
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
    pump.join(timeout=5)
    if not pump.is_alive():  # its output read to the end: the pipe is closed here, not left to the collector
        process.stdout.close()
    return code, interrupted


def main(argv: list[str]) -> int:
    """Run a load test; the exit code is the verdict."""
    ns = _parser().parse_args(argv)
    try:
        available = importlib.util.find_spec("locust") is not None
    except (ImportError, ValueError):
        available = False
    if not available:
        print(f"{PROG}: error: the load mode needs Locust, which is not installed: {INSTALL}", file=sys.stderr)
        return ExitCode.USAGE
    if ns.master and ns.worker:
        print(f"{PROG}: error: --master and --worker exclude each other; see {PROG} --help.", file=sys.stderr)
        return ExitCode.USAGE
    try:
        url = opts.TARGET_URL.resolve(ns.dlr_target_url)
        ns.dlr_state_cmd = None if ns.worker else opts.STATE_CMD.resolve(ns.dlr_state_cmd)
    except argparse.ArgumentTypeError as exc:
        print(f"{PROG}: error: {exc}.", file=sys.stderr)
        return ExitCode.USAGE
    ns.dlr_headers = ns.dlr_headers or []
    ns.seed = ns.seed if ns.seed is not None else random.SystemRandom().randrange(2**32)
    run_id = secrets.token_hex(4)
    receiver = None
    if url is None and not ns.worker:
        from conformance.reference.embedded import EmbeddedReceiver

        receiver = EmbeddedReceiver(prefix="dlr-load-receiver-")
        url = receiver.url
        if ns.dlr_state_cmd is None:  # the bundled receiver's own reader, as in the suite's default run
            ns.dlr_state_cmd = receiver.reader
    redactor = Redactor.for_target(url or "", ns.dlr_headers)
    if ns.dlr_state_cmd:
        redactor.add_command(ns.dlr_state_cmd)  # it often holds a database password
    masked = redactor.mask_url(url) if url else ""
    with tempfile.TemporaryDirectory(prefix="dlr-load-") as tmp:
        work = Path(tmp)
        try:
            if ns.dlr_state_cmd:
                problem = _check_reader(ns, run_id, redactor)
                if problem:
                    print(problem, file=sys.stderr)
                    return ExitCode.USAGE
            if not ns.worker:
                from conformance.generation.campaign import templates

                (work / "templates.json").write_text(json.dumps(templates(64, ns.seed)), encoding="utf-8")
                for path in (ns.json, ns.junitxml):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(path)
                if not ns.quiet:
                    mode = f"from {ns.rate:g} up by {ns.rate:g} every {ns.step:g} s" if ns.ramp else f"{ns.rate:g}"
                    print(
                        f"{PROG}: {mode} callbacks/s for {ns.duration:g} s to {masked}"
                        + (" (bundled reference receiver)" if receiver else "")
                        + f", run id {run_id}; api_job_ids start with dlrc-{run_id}-",
                        flush=True,
                    )
            command = _locust_command(ns, masked, run_id, work)
            env = _locust_env(url or "", ns.dlr_headers)
            code, interrupted = _run_locust(command, env, redactor, ns.quiet, work / "interrupted")
            if ns.worker:
                return ExitCode.INTERRUPTED if interrupted else (ExitCode.OK if code == 0 else ExitCode.ERROR)
            return _finish(ns, redactor, code, interrupted, run_id, work / "ledger.tsv")
        except KeyboardInterrupt:  # outside Locust's run (drawing the templates, checking the reader)
            print(f"{PROG}: interrupted", file=sys.stderr)
            return ExitCode.INTERRUPTED
        finally:
            if receiver is not None:
                receiver.stop()


def _check_reader(ns: argparse.Namespace, run_id: str, redactor: Redactor) -> str:
    """Call the state reader once before the load: a broken one is a usage error, found before anything is sent."""
    from conformance.engine.store import CommandReader, StateCommandError, probe

    try:
        probe(CommandReader(ns.dlr_state_cmd, ns.state_timeout), run_id)
    except StateCommandError as exc:
        return redactor.mask(f"{PROG}: error: --state-cmd: {exc} (checked before anything was sent).")
    return ""


def _finish(ns: argparse.Namespace, redactor: Redactor, code: int, interrupted: bool, run_id: str, ledger: Path) -> int:
    from conformance.load.outputs import LoadResult, write

    for path in (ns.html, ns.json, ns.junitxml):
        _mask_file(path, redactor)
    try:
        result = LoadResult.from_json(json.loads(Path(ns.json).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        print(f"{PROG}: error: Locust ended (exit code {code}) without writing the summary.", file=sys.stderr)
        return ExitCode.INTERRUPTED if interrupted else ExitCode.ERROR
    if interrupted:
        result.verdict = Verdict.INTERRUPTED
    if ns.dlr_state_cmd:
        interrupted = _stored_state(ns, result, run_id, ledger, interrupted) or interrupted
    else:  # a held rate says nothing of what was stored: the summary says so rather than staying silent
        result.not_stored = NO_READER
    write(result, ns.json, ns.junitxml)
    for path in (ns.json, ns.junitxml):
        _mask_file(path, redactor)
    lat = result.latency_s

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 1000:.0f} ms"

    print(redactor.mask(f"{PROG}: {result.verdict.text}: {result.explanation}"))
    if not ns.quiet:
        answers = ", ".join(f"{answer}: {count:,}" for answer, count in result.answers.items())
        print(
            f"  {result.requests_sent:,} callbacks ({result.delivery_reports:,} delivery reports, "
            f"{result.retries:,} retries), {result.rate_achieved:,.1f}/s; latency p50 / p95 / p99 / "
            f"max {ms(lat['p50'])} / {ms(lat['p95'])} / {ms(lat['p99'])} / {ms(lat['max'])}"
        )
        print(f"  answers: {answers or 'none'}")
        if result.stored is None:
            print(f"  stored state: not checked: {result.not_stored}")
        for requirement in result.stored.requirements if result.stored is not None else []:
            for problem in requirement.evidence[:5]:
                print(redactor.mask(f"  {requirement.id}: {problem.text}"))
        print(f"  reports: {ns.html} (Locust's charts), {ns.json}, {ns.junitxml}")
    return result.verdict.exit_code


def _stored_state(ns: argparse.Namespace, result: LoadResult, run_id: str, ledger: Path, interrupted: bool) -> bool:
    """What load judges of the stored state, folded into the result and its verdict; True if Ctrl-C came meanwhile."""
    from conformance.engine.ledger import CompactLedger
    from conformance.engine.store import CommandReader, StateCommandError
    from conformance.load.stored import await_stored

    if interrupted:
        result.not_stored = "the run was interrupted"
        return False
    if not ns.quiet:
        print(f"{PROG}: reading what the receiver stored (--state-cmd) ...", flush=True)
    notes = CompactLedger.read(ledger)
    if result.answered and not notes.lines:  # never judge nothing: an empty ledger after 200s is this tool's fault
        result.not_stored = "no ledger of the reports delivered was written"
        result.verdict = Verdict.ERROR
        result.explanation += (
            f" The stored state was not checked: {result.answered:,} callbacks were answered 200 but the load's "
            "ledger of them is empty (an internal error; please report it)."
        )
        return False
    try:
        stored = await_stored(CommandReader(ns.dlr_state_cmd, ns.state_timeout), notes, run_id, ns.state_timeout)
    except StateCommandError as exc:
        result.not_stored = str(exc)
        result.verdict = Verdict.ERROR
        result.explanation += f" The stored state could not be read: {exc}."
        return False
    except KeyboardInterrupt:
        result.not_stored = "interrupted while reading the stored state"
        result.verdict = Verdict.INTERRUPTED
        return True
    result.stored = stored
    result.explanation += f" Stored state: {stored.sentence()}."
    if stored.failed and result.verdict in (Verdict.HELD, Verdict.NOT_HELD):
        result.rate_verdict = result.verdict  # whether the rate alone was held
        result.verdict = Verdict.NOT_CONFORMANT
    return False
