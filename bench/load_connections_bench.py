"""Benchmark of ``load``'s connection count: what one Locust process sends with N connections, against a receiver
that is never the limit.

The receiver is ``bench/fast_receiver.py`` (asyncio, its own process, 200 at once, like a plain node.js server).
For each ``--rates`` value and each ``--connections`` count, ``dlr-conformance load --rate R --connections N``
runs for ``--seconds`` on one process; the rows are the load's own figures from its JSON summary (the achieved
rate, latency p50 / p99, the generator's CPU demand and verdict). Like for like: the same receiver, rate and
duration, only N changes; the counts are run in ``--rounds`` interleaved rounds (this machine's neighbours come
and go) and each cell is the median of its rounds. Where the achieved rate stops rising with N, and then falls,
is the knee the default connection count is capped at (``conformance/load/traffic.py``).

``python bench/load_connections_bench.py [--seconds 8] [--rates 2000,50000] [--connections 10,50,200,2500]``
with the ``load`` extra installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling scripts
from load_bench import load_mode

from bench import start_receiver


def _numbers(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def main() -> int:
    """Run every (rate, connections) cell in interleaved rounds and print the table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rates", type=_numbers, default=[2000, 50000], help="callbacks/s asked, comma-separated")
    parser.add_argument("--connections", type=_numbers, default=[10, 25, 50, 100, 200, 400, 1000, 2500])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="dlr-connections-bench-") as tmp:
        workdir = Path(tmp)
        receiver, base = start_receiver(workdir, "fast_receiver.py")
        try:
            for round_ in range(args.rounds):
                for rate in args.rates:
                    for connections in args.connections:
                        started = time.monotonic()
                        summary = load_mode(f"{base}/dlr", args.seconds, rate, 1, workdir, connections)
                        row = {
                            "achieved": summary["rate_achieved"],
                            "p50_ms": (summary["latency_s"]["p50"] or 0) * 1000,
                            "p99_ms": (summary["latency_s"]["p99"] or 0) * 1000,
                            "cpu": (summary.get("generator") or {}).get("cpu"),
                            "verdict": summary["verdict"],
                            "failed": summary["failed"],
                        }
                        cells.setdefault((rate, connections), []).append(row)
                        print(
                            f"round {round_ + 1}: rate {rate:>6,}  connections {connections:>5,}  "
                            f"{row['achieved']:>8,.0f}/s  p50 {row['p50_ms']:>6.0f} ms  p99 {row['p99_ms']:>6.0f} ms  "
                            f"cpu {row['cpu']}  {row['verdict']} ({row['failed']} failed, "
                            f"{time.monotonic() - started:.0f} s)",
                            flush=True,
                        )
        finally:
            receiver.kill()
    print(f"\nmedians of {args.rounds} round(s), {args.seconds:g} s each, one Locust process:")
    print(f"{'rate':>8} {'connections':>12} {'achieved/s':>11} {'p50 ms':>7} {'p99 ms':>7}")
    table = []
    for (rate, connections), rows in cells.items():
        achieved = statistics.median(r["achieved"] for r in rows)
        p50 = statistics.median(r["p50_ms"] for r in rows)
        p99 = statistics.median(r["p99_ms"] for r in rows)
        table.append({"rate": rate, "connections": connections, "achieved": achieved, "p50_ms": p50, "p99_ms": p99})
        print(f"{rate:>8,} {connections:>12,} {achieved:>11,.0f} {p50:>7.0f} {p99:>7.0f}")
    if args.out:
        args.out.write_text(json.dumps({"seconds": args.seconds, "cells": table}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
