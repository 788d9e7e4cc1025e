"""Benchmark: what counting the contract's coverage costs in a 10,000-example run.

Each round is one whole default run with ``--examples 10000`` (every requirement, the generated check at 10,000
payloads) against the counting receiver (``bench/receiver.py``, its own process). The JSON summary gives the
run's wall time (``duration_s``) and the time spent counting coverage cells (``coverage.cost_s``, measured inside
the run around every delivery's count, so lock waits included); the share is their ratio. Both figures come from
the same run, so the machine's load affects them alike.

``python bench/coverage_bench.py [--examples 10000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BIN, start_receiver  # the sibling script


def one_round(workdir: Path, url: str, examples: int, seed: int) -> dict[str, float]:
    """One run; returns its wall time, coverage cost and requests sent."""
    summary = workdir / f"summary-{seed}.json"
    cmd = [str(BIN / "dlr-conformance"), "--target-url", f"{url}/dlr", "--examples", str(examples)]
    cmd += ["--seed", str(seed), "-q", "--json", str(summary), "--html", str(workdir / "r.html")]
    cmd += ["--junitxml", str(workdir / "j.xml")]
    subprocess.run(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    data = json.loads(summary.read_text(encoding="utf-8"))
    return {
        "duration_s": data["duration_s"],
        "cost_s": data["coverage"]["cost_s"],
        "requests": data["requests_sent"],
        "exercised": data["coverage"]["exercised"],
        "cells": data["coverage"]["cells"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlr-coverage-bench-") as folder:
        workdir = Path(folder)
        receiver, url = start_receiver(workdir)
        try:
            rounds = [one_round(workdir, url, args.examples, seed) for seed in range(1, args.rounds + 1)]
        finally:
            receiver.terminate()
    for r in rounds:
        share = 100 * r["cost_s"] / r["duration_s"]
        print(
            f"{r['requests']:.0f} requests in {r['duration_s']:.1f} s; coverage counted in {r['cost_s']:.2f} s "
            f"({share:.1f}%); {r['exercised']:.0f} of {r['cells']:.0f} cells"
        )
    shares = [100 * r["cost_s"] / r["duration_s"] for r in rounds]
    print(f"median share {statistics.median(shares):.1f}% (rounds {min(shares):.1f}-{max(shares):.1f}%)")


if __name__ == "__main__":
    main()
