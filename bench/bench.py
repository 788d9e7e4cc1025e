"""Benchmark: generated callbacks per second, dlr-conformance against the bare requests loop and schemathesis.

One run, one machine, one receiver (``bench/receiver.py`` in its own process), measured in turn:

1. ``bare``: a ``requests.Session`` loop posting one fixed callback (the HTTP ceiling for one Python client);
2. ``dlr-conformance``: ``dlr-conformance -k generated --examples N`` -- generation, delivery, checks and all
   three reports, as a customer runs it;
3. ``schemathesis``: ``st run`` on the same schema wrapped in an OpenAPI document, positive fuzzing only,
   N examples (needs the ``bench`` extra: ``pip install -e '.[bench]'``).

Two rates per tool: *wall* (requests / whole command time, start-up included) and *steady* (requests / time
from the first to the last arrival at the receiver). The ratios use the wall rate. Also measured: the default
full suite against the embedded receiver (wall time, requests), peak RSS for 5,000 generated examples, and the
HTML report size for N examples. Each Hypothesis-based tool gets one warm-up run first (see ``main``).
Install the project as customers do (not editable: an editable install makes Hypothesis parse the package's
source as "local" code): ``python -m venv /tmp/bench && /tmp/bench/bin/pip install '.[bench]'``, then
``/tmp/bench/bin/python bench/bench.py [--examples 1000] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def start_receiver(workdir: Path, script: str = "receiver.py") -> tuple[subprocess.Popen[bytes], str]:
    """Start the counting receiver (or another of this folder's) in its own process; returns it and its base URL."""
    port_file = workdir / "port"
    proc = subprocess.Popen([sys.executable, str(HERE / script), str(port_file)])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            return proc, f"http://127.0.0.1:{port_file.read_text()}"
        time.sleep(0.02)
    proc.kill()
    raise SystemExit("the benchmark receiver did not start")


def stats(base: str, reset: bool = False) -> dict[str, Any]:
    """The receiver's arrival counts (and reset them afterwards if asked)."""
    data: dict[str, Any] = requests.get(f"{base}/stats", timeout=5).json()
    if reset:
        requests.delete(f"{base}/stats", timeout=5)
    return data


def measure(name: str, base: str, fn: Any) -> dict[str, Any]:
    """Run ``fn`` and compute wall and steady rates from the receiver's counts."""
    stats(base, reset=True)
    t0 = time.perf_counter()
    extra = fn() or {}
    wall = time.perf_counter() - t0
    s = stats(base, reset=True)
    steady_window = s["last"] - s["first"]
    result = {
        "name": name,
        "requests": s["count"],
        "wall_s": round(wall, 3),
        "wall_rate": round(s["count"] / wall, 1) if wall else None,
        "steady_rate": round((s["count"] - 1) / steady_window, 1) if steady_window > 0 else None,
        **extra,
    }
    print(
        f"{name:16s} {s['count']:6d} requests  {wall:7.2f} s  wall {result['wall_rate']:>8} /s  "
        f"steady {result['steady_rate']:>8} /s",
        flush=True,
    )
    return result


def bare(url: str, n: int, in_flight: int = 1) -> None:
    """The HTTP ceiling: keep-alive Sessions posting one fixed body n times, ``in_flight`` at once (one thread and
    one Session each, as the generated check delivers with ``generated.IN_FLIGHT`` requests in flight)."""
    import threading

    sys.path.insert(0, str(ROOT))
    from conformance.generation.cases import documented_example

    body = json.dumps(documented_example()).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}

    def loop(count: int) -> None:
        with requests.Session() as session:
            for _ in range(count):
                session.post(url, data=body, headers=headers, timeout=10)

    shares = [n // in_flight + (1 if i < n % in_flight else 0) for i in range(in_flight)]
    threads = [threading.Thread(target=loop, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def dlr_command(url: str, n: int, out: Path) -> list[str]:
    """The generated check as a customer runs it, reports written under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        str(BIN / "dlr-conformance"),
        "--target-url",
        url,
        "-k",
        "generated",
        "--examples",
        str(n),
        "--seed",
        "1",
        "--html",
        str(out / "report.html"),
        "--junitxml",
        str(out / "junit.xml"),
        "--json",
        str(out / "summary.json"),
        "-q",
    ]


def dlr(url: str, n: int, workdir: Path) -> dict[str, Any]:
    """The generated check through the installed command; returns its exit code and report size."""
    out = workdir / "dlr"
    proc = subprocess.run(dlr_command(url, n, out), cwd=workdir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
    return {"exit_code": proc.returncode, "html_bytes": (out / "report.html").stat().st_size}


def openapi_document(url: str) -> dict[str, Any]:
    """The callback schema wrapped in an OpenAPI 3.1 document with one operation: POST /dlr."""
    sys.path.insert(0, str(ROOT))
    from conformance.contract.schema import load_schema

    schema = json.loads(json.dumps(load_schema()).replace("#/definitions/", "#/components/schemas/"))
    definitions = schema.pop("definitions")
    for key in ("$schema", "$id", "$comment"):
        schema.pop(key, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "delivery-report callback receiver", "version": "1"},
        "servers": [{"url": url}],
        "paths": {
            "/dlr": {
                "post": {
                    "operationId": "callback",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
                    "responses": {"200": {"description": "stored"}},
                }
            }
        },
        "components": {"schemas": definitions},
    }


def schemathesis(base: str, n: int, workdir: Path) -> dict[str, Any]:
    """``st run`` with positive fuzzing, n examples, the same schema."""
    st = shutil.which("st", path=str(BIN))
    if st is None:
        return {"skipped": "schemathesis is not installed (pip install -e '.[bench]')"}
    doc = workdir / "openapi.json"
    doc.write_text(json.dumps(openapi_document(base)))
    cmd = [
        st,
        "run",
        str(doc),
        "--url",
        base,
        "--phases",
        "fuzzing",
        "--mode",
        "positive",
        "-n",
        str(n),
        "--checks",
        "not_a_server_error",
        "--generation-database",
        "none",
        "--seed",
        "1",
        "--no-color",
    ]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=False)
    return {"exit_code": proc.returncode}


def full_suite(workdir: Path) -> dict[str, Any]:
    """The default full suite against the embedded reference receiver: wall time and requests."""
    out = workdir / "full"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            str(BIN / "dlr-conformance"),
            "--seed",
            "1",
            "--json",
            str(out / "summary.json"),
            "--html",
            str(out / "report.html"),
            "--junitxml",
            str(out / "junit.xml"),
            "-q",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    return {
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "requests": summary["requests_sent"],
        "verdict": summary["verdict"],
    }


def peak_rss(url: str, n: int, workdir: Path) -> float:
    """Peak RSS in MiB of the largest process of a dlr-conformance run with n generated examples.

    Measured from a fresh wrapper process: RUSAGE_CHILDREN is the maximum over every child ever reaped, so in this
    process it would include schemathesis.
    """
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, check=False); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    cmd = [sys.executable, "-c", wrapper, *dlr_command(url, n, workdir / "rss")]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=True)
    return round(int(proc.stdout.strip()) / 1024, 1)


def main() -> int:
    """Run every measurement and print rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--rss-examples", type=int, default=5000)
    parser.add_argument(
        "--scale-examples",
        type=int,
        default=10000,
        help="also compare dlr-conformance with the bare loop (1 and 4 in flight) at this size, start-up amortised "
        "(0: skip; schemathesis is not run at this size: ~70 s per 1,000)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=5,
        help="then this many interleaved rounds of the bare loop (1 and 4 in flight) and dlr-conformance at --examples "
        "(a 1,000-example run lasts about 2 s, and consecutive runs here differ by up to 30%%): the ratio is taken "
        "per round and the median reported (0: skip)",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    ns = parser.parse_args()
    n = ns.examples
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "examples": n,
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, base = start_receiver(workdir)
        url = f"{base}/dlr"
        try:
            # One warm-up run of each Hypothesis-based tool: Hypothesis builds a table of the characters a codec can
            # encode once and caches it (dlr-conformance: in the user's cache directory; schemathesis: in .hypothesis/
            # of its working directory). Every run after the first on a machine finds it; the first pays ~1 s.
            dlr(url, 1, workdir / "warm-up")
            schemathesis(base, 1, workdir)
            results["bare"] = measure("bare requests", base, lambda: bare(url, n))
            results["bare_4"] = measure("bare, 4 in flight", base, lambda: bare(url, n, 4))
            results["dlr"] = measure("dlr-conformance", base, lambda: dlr(url, n, workdir))
            results["schemathesis"] = measure("schemathesis", base, lambda: schemathesis(base, n, workdir))
            if ns.scale_examples:
                big = ns.scale_examples
                results["scale"] = {
                    "examples": big,
                    "bare": measure(f"bare {big}", base, lambda: bare(url, big)),
                    "bare_4": measure(f"bare 4x {big}", base, lambda: bare(url, big, 4)),
                    "dlr": measure(f"dlr-conf. {big}", base, lambda: dlr(url, big, workdir)),
                }
            rounds: list[dict[str, float]] = []
            for _ in range(ns.pairs):
                one = measure("  round: bare", base, lambda: bare(url, n))["wall_rate"]
                four = measure("  round: bare 4x", base, lambda: bare(url, n, 4))["wall_rate"]
                ours = measure("  round: dlr-conf.", base, lambda: dlr(url, n, workdir))["wall_rate"]
                rounds.append({"bare": one, "bare_4": four, "dlr": ours})
            results["rounds"] = rounds
            results["full_suite"] = full_suite(workdir)
            results["peak_rss_mib"] = {"examples": ns.rss_examples, "mib": peak_rss(url, ns.rss_examples, workdir)}
        finally:
            proc.kill()
    dlr_rate, bare_rate = results["dlr"]["wall_rate"], results["bare"]["wall_rate"]
    st_rate = results["schemathesis"].get("wall_rate")
    results["ratios"] = {
        "dlr_vs_schemathesis": round(dlr_rate / st_rate, 1) if st_rate else None,
        "dlr_vs_bare": round(dlr_rate / bare_rate, 3),
        "dlr_vs_bare_4": round(dlr_rate / results["bare_4"]["wall_rate"], 3),
    }
    if "scale" in results:
        scale = results["scale"]
        for key in ("bare", "bare_4"):
            results["ratios"][f"scale_dlr_vs_{key}"] = round(scale["dlr"]["wall_rate"] / scale[key]["wall_rate"], 3)
    print(f"full suite (embedded receiver): {results['full_suite']}")
    print(
        f"peak RSS for {ns.rss_examples} examples: {results['peak_rss_mib']['mib']} MiB; "
        f"HTML report for {n} examples: {results['dlr']['html_bytes'] / 1024:.0f} KiB"
    )
    print(
        f"ratios: dlr-conformance / schemathesis = {results['ratios']['dlr_vs_schemathesis']}x, "
        f"dlr-conformance / bare requests = {results['ratios']['dlr_vs_bare']:.0%} (1 in flight), "
        f"{results['ratios']['dlr_vs_bare_4']:.0%} (4 in flight)"
    )
    if "scale" in results:
        print(
            f"at {results['scale']['examples']:,} examples: dlr-conformance / bare requests = "
            f"{results['ratios']['scale_dlr_vs_bare']:.0%} (1 in flight), "
            f"{results['ratios']['scale_dlr_vs_bare_4']:.0%} (4 in flight)"
        )
    if results["rounds"]:
        for key, label in (("bare", "1 in flight"), ("bare_4", "4 in flight")):
            ratios = [r["dlr"] / r[key] for r in results["rounds"]]
            results["ratios"][f"rounds_dlr_vs_{key}"] = [round(x, 3) for x in ratios]
            print(
                f"interleaved rounds at {n:,} examples, dlr-conformance / bare requests ({label}): "
                f"{', '.join(f'{x:.0%}' for x in ratios)}; median {statistics.median(ratios):.0%}"
            )
    if ns.out:
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
