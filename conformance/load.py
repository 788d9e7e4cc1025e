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
2 interrupted, 3 internal error, 4 usage error). Locust is an extra: ``pip install 'dlr-conformance[load]'``.
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
from typing import IO, Any

from conformance import __version__
from conformance import options as opts
from conformance.secrets import Redactor

__all__ = ["duration", "main"]

PROG = "dlr-conformance load"
DEFAULT_HTML = "reports/load.html"
DEFAULT_JSON = "reports/load-summary.json"
DEFAULT_JUNIT = "reports/load-junit.xml"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
INSTALL = "pip install 'dlr-conformance[load]'"
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
        "2 interrupted, 3 internal error, 4 usage error.",
        epilog="Several machines: on the master, add --master --expect-workers N; on each worker machine run "
        f"'{PROG} --worker --master-host MASTER'. Needs Locust: {INSTALL}",
    )
    add = parser.add_argument
    add("--target-url", type=opts.target_url, metavar="URL", help="the receiver; none: the bundled reference receiver")
    add("--rate", type=opts.positive_float, default=50.0, metavar="R", help="callbacks per second (default 50)")
    add("--duration", type=duration, default=60.0, metavar="D", help="how long: 90s, 10m, 1h (default 60s)")
    add("--ramp", action="store_true", help="step the rate up by R every --step until the receiver stops holding it")
    add("--step", type=duration, default=10.0, metavar="D", help="length of one ramp step (default 10s)")
    add("--timeout", type=opts.positive_float, default=10.0, metavar="S", help="deadline of one whole delivery")
    add("--header", dest="headers", type=opts.header, action="append", default=[], metavar="'Name: value'")
    add("--ca-bundle", type=opts.ca_bundle, metavar="PATH", help="CA certificates to trust for an https target")
    add("--processes", type=opts.positive_int, default=1, metavar="N", help="Locust worker processes on this machine")
    add("--master", action="store_true", help="be the master of workers on other machines (see --expect-workers)")
    add("--expect-workers", type=opts.positive_int, default=1, metavar="N", help="workers the master waits for")
    add("--master-bind-port", type=opts.positive_int, default=5557, metavar="PORT", help="the master's port")
    add("--worker", action="store_true", help="be a worker of the master at --master-host")
    add("--master-host", default="127.0.0.1", metavar="HOST", help="where the master runs (with --worker)")
    add("--master-port", type=opts.positive_int, default=5557, metavar="PORT", help="the master's port (--worker)")
    add("--seed", type=opts.seed, metavar="N", help="seed of the callback templates (default: random)")
    add("--html", type=opts.report_path, default=DEFAULT_HTML, metavar="PATH", help="Locust's HTML report")
    add("--json", type=opts.report_path, default=DEFAULT_JSON, metavar="PATH", help="the JSON summary")
    add("--junitxml", type=opts.report_path, default=DEFAULT_JUNIT, metavar="PATH", help="the JUnit file")
    add("-q", "--quiet", action="store_true", help="only the verdict")
    return parser


def _locust_command(ns: argparse.Namespace, url: str, masked: str, run_id: str, work: Path) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "ERROR"]
    if ns.worker:
        return [*command, "--worker", "--master-host", ns.master_host, "--master-port", str(ns.master_port)]
    command += ["--headless", "--host", url, "--only-summary", "--html", ns.html, "--exit-code-on-error", "0"]
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
        "--dlr-timeout", repr(ns.timeout),
        "--dlr-headers", json.dumps(ns.headers),
        "--dlr-ca-bundle", ns.ca_bundle or "",
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
    return command


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


def _run_locust(command: list[str], redactor: Redactor, quiet: bool, marker: Path) -> tuple[int, bool]:
    """Run Locust in its own process group; Ctrl-C is passed on to it (it writes its reports) -> (code, interrupted)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True
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
        return 4
    if ns.master and ns.worker:
        print(f"{PROG}: error: --master and --worker exclude each other; see {PROG} --help.", file=sys.stderr)
        return 4
    ns.seed = ns.seed if ns.seed is not None else random.SystemRandom().randrange(2**32)
    run_id = secrets.token_hex(4)
    receiver = None
    url = ns.target_url
    if url is None and not ns.worker:
        from conformance.receiver import ReceiverServer

        receiver = ReceiverServer().start()
        url = receiver.url
    redactor = Redactor.for_target(url or "", ns.headers)
    masked = redactor.mask_url(url) if url else ""
    with tempfile.TemporaryDirectory(prefix="dlr-load-") as tmp:
        work = Path(tmp)
        try:
            if not ns.worker:
                from conformance.campaign import templates

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
            command = _locust_command(ns, url or "", masked, run_id, work)
            code, interrupted = _run_locust(command, redactor, ns.quiet, work / "interrupted")
        finally:
            if receiver is not None:
                receiver.stop()
    if ns.worker:
        return 2 if interrupted else (0 if code == 0 else 3)
    return _finish(ns, redactor, code, interrupted)


def _finish(ns: argparse.Namespace, redactor: Redactor, code: int, interrupted: bool) -> int:
    from conformance.loadreport import EXIT

    for path in (ns.html, ns.json, ns.junitxml):
        _mask_file(path, redactor)
    try:
        result: dict[str, Any] = json.loads(Path(ns.json).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"{PROG}: error: Locust ended (exit code {code}) without writing the summary.", file=sys.stderr)
        return 2 if interrupted else 3
    if interrupted:
        result["verdict"] = "interrupted"
    verdict = result["verdict"]
    lat = result["latency_s"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 1000:.0f} ms"

    print(f"{PROG}: {verdict.upper().replace('_', ' ')}: {result['explanation']}")
    if not ns.quiet:
        answers = ", ".join(f"{answer}: {count:,}" for answer, count in result["answers"].items())
        print(
            f"  {result['requests_sent']:,} callbacks ({result['reports']['delivery_reports']:,} delivery reports, "
            f"{result['reports']['retries']:,} retries), {result['rate_achieved']:,.1f}/s; latency p50 / p95 / p99 / "
            f"max {ms(lat['p50'])} / {ms(lat['p95'])} / {ms(lat['p99'])} / {ms(lat['max'])}"
        )
        print(f"  answers: {answers or 'none'}")
        print(f"  reports: {ns.html} (Locust's charts), {ns.json}, {ns.junitxml}")
    return EXIT.get(verdict, 3)
