"""Benchmark: what reading the stored state costs a full run, against the PostgreSQL example receiver.

A default run (``dlr-conformance --target-url URL --seed S``) against ``docs/examples/postgres`` (the example app
served in this process, a throwaway PostgreSQL cluster), timed as a whole command, in turn: *without* a reader and
a preparer, and *with* the documented ``psql`` reader and preparer. The store is emptied before each run. The goal:
a run with state costs at most 1.5 times a run without. Each run's preparer calls and reader polls, with their
seconds, come from its JSON summary (``state_commands``); where the extra time went, test by test, from the two
runs' JUnit reports (the median of the rounds' differences, the largest printed).

``python bench/state_bench.py [--rounds 5] [--examples 100] [--out results.json]`` (needs Debian's postgresql and
``psycopg``, as the example's test does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tests.support import postgres  # noqa: E402 - the repository's own throwaway cluster
from tests.support.servers import serve  # noqa: E402

BIN = Path(sys.executable).parent


def one_run(url: str, database: str, *, state: bool, examples: int, seed: int) -> dict[str, Any]:
    """One whole command, timed; its exit code, seconds, latency and the state commands' figures."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("TRUNCATE dlr_report, dlr_message, dlr_early_report")
    workdir = Path(tempfile.mkdtemp(prefix="dlr-state-bench-"))
    command = [str(BIN / "dlr-conformance"), "--target-url", url, "--seed", str(seed), "--examples", str(examples)]
    if state:
        command += ["--state-cmd", postgres.example_command(database, "reader.sql", "-q", "-At")]
        command += ["--prepare-cmd", postgres.example_command(database, "prepare.sql", "-q")]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    summary = json.loads((workdir / "reports" / "summary.json").read_text(encoding="utf-8"))
    return {
        "state": state,
        "code": done.returncode,
        "seconds": round(seconds, 2),
        "verdict": summary["verdict"],
        "latency_s": summary["latency_s"],
        "state_commands": summary["state_commands"],
        "reports": str(workdir / "reports"),
        "tests_s": _test_seconds(workdir / "reports" / "junit.xml"),
    }


def _test_seconds(junit: Path) -> dict[str, float]:
    """Each test's seconds, as its JUnit report says."""
    return {case.get("name", ""): float(case.get("time", 0)) for case in ET.parse(junit).iter("testcase")}


def _extra_by_test(runs: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Per test, the median over the rounds of its seconds with state minus without, largest first."""
    pairs = list(zip(runs[::2], runs[1::2], strict=True))
    names = {name for _, with_state in pairs for name in with_state["tests_s"]}
    extra = {
        name: statistics.median(w["tests_s"].get(name, 0.0) - wo["tests_s"].get(name, 0.0) for wo, w in pairs)
        for name in names
    }
    # start-up, the reader's probe, the rehearsal and its preparer call, the reports: the command's other seconds
    extra["(outside the tests)"] = statistics.median(
        (w["seconds"] - sum(w["tests_s"].values())) - (wo["seconds"] - sum(wo["tests_s"].values())) for wo, w in pairs
    )
    return sorted(extra.items(), key=lambda item: -item[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    ns = parser.parse_args()
    bin_dir = postgres.binaries()
    if bin_dir is None:
        print("PostgreSQL is not installed (apt-get install postgresql)", file=sys.stderr)
        return 4
    load_before = os.getloadavg()
    server = postgres.PostgresServer(bin_dir).start()
    app = postgres.example_app()
    try:
        app.create_schema(server.url)
        receiver = serve(app.application(server.url))
        try:
            runs = []
            for _ in range(ns.rounds):  # alternate, so that a slow spell of the machine hits both
                for state in (False, True):
                    runs.append(one_run(receiver.url, server.url, state=state, examples=ns.examples, seed=ns.seed))
                    print(json.dumps({k: v for k, v in runs[-1].items() if k != "tests_s"}), flush=True)
        finally:
            receiver.stop()
    finally:
        server.stop()
    without = statistics.median(r["seconds"] for r in runs if not r["state"])
    with_state = statistics.median(r["seconds"] for r in runs if r["state"])
    ratios = [round(w["seconds"] / wo["seconds"], 2) for wo, w in zip(runs[::2], runs[1::2], strict=True)]
    extra = _extra_by_test(runs)
    result = {
        "rounds": ns.rounds,
        "examples": ns.examples,
        "median_without_s": without,
        "median_with_state_s": with_state,
        "ratio": round(with_state / without, 2),
        "round_ratios": ratios,
        "goal": 1.5,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "extra_by_test_s": dict(extra),
        "runs": runs,
    }
    print("extra seconds with state, by test (median of the rounds):")
    for name, seconds in extra[:8]:
        print(f"  {seconds:+.2f} {name}")
    load = " -> ".join(f"{a[0]:.1f}/{a[1]:.1f}/{a[2]:.1f}" for a in result["load_average"].values())
    print(f"without: {without:.2f} s, with reader and preparer: {with_state:.2f} s, ratio {result['ratio']}")
    print(f"rounds' ratios: {', '.join(map(str, ratios))}; load average (1/5/15 min) {load}")
    if ns.out:
        ns.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
