"""Benchmark of ``dlr-conformance load``: the highest rate it sustains, beside plain Locust and a bare requests loop.

One run, one machine, one receiver (``bench/receiver.py`` in its own process, counting arrivals), each measured
for ``--seconds`` in turn; the rate is arrivals between the first and the last one at the receiver:

1. ``bare requests``: one ``requests.Session`` posting the documented example in a loop (1 in flight);
2. ``locust HttpUser`` / ``locust FastHttpUser``: a plain locustfile, 20 users without wait, posting the
   documented example (the ceiling of Locust's clients), FastHttpUser on one process and on two;
3. ``dlr-conformance load``: campaign callbacks at ``--rate`` far above what it can send, so the achieved rate is
   its ceiling: with ``--connections 20`` (20 users, as the plain scripts: like for like) on one process and on
   two, then with its default connections (one per 20 callbacks/s, capped per process: ``traffic.users``) on one.

``python bench/load_bench.py [--seconds 10] [--rate 6000] [--out results.json]`` with the ``load`` extra installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BIN, ROOT, start_receiver, stats  # the sibling script

sys.path.insert(0, str(ROOT))
from conformance.load.traffic import users as default_users

PLAIN = """
import json
from locust import task
from {module} import {user}
from conformance.generation.cases import documented_example

BODY = json.dumps(documented_example())
HEADERS = {{"Content-Type": "application/json; charset=utf-8"}}


class Plain({user}):
    @task
    def post(self):
        self.client.post("", data=BODY, headers=HEADERS)
"""


def measured(name: str, base: str, run: Any) -> dict[str, Any]:
    """Run one tool, then read the receiver's count and its first and last arrival."""
    stats(base, reset=True)
    started = time.monotonic()
    run()
    wall = time.monotonic() - started
    got = stats(base, reset=True)
    span = got["last"] - got["first"]
    rate = (got["count"] - 1) / span if span > 0 else 0.0
    print(f"{name:38} {got['count']:>8,} callbacks  {rate:>8,.0f}/s  ({wall:.1f} s wall)", flush=True)
    return {"name": name, "callbacks": got["count"], "rate": round(rate, 1), "wall_s": round(wall, 2)}


def bare(url: str, seconds: float) -> None:
    """The requests ceiling: one keep-alive Session posting the documented example, 1 in flight."""
    sys.path.insert(0, str(ROOT))
    from conformance.generation.cases import documented_example

    body = json.dumps(documented_example()).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    end = time.monotonic() + seconds
    with requests.Session() as session:
        while time.monotonic() < end:
            session.post(url, data=body, headers=headers, timeout=10)


def plain_locust(url: str, seconds: float, user: str, workdir: Path, processes: int = 1) -> None:
    """A plain locustfile with 20 users and no wait, for ``seconds`` (on ``processes`` Locust processes)."""
    locustfile = workdir / f"plain_{user}.py"
    module = "locust.contrib.fasthttp" if user == "FastHttpUser" else "locust"
    locustfile.write_text(PLAIN.format(user=user, module=module), encoding="utf-8")
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", "20", "-r", "20"]
    if processes > 1:
        command += ["--processes", str(processes)]
    command += ["-t", f"{seconds:g}s", "--host", url, "--only-summary", "--loglevel", "ERROR"]
    command += ["--exit-code-on-error", "0"]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"plain Locust failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def load_mode(
    url: str, seconds: float, rate: float, processes: int, workdir: Path, connections: int = 0
) -> dict[str, Any]:
    """``dlr-conformance load`` at a rate above its ceiling (``connections`` users, 0: its default); its summary."""
    out = workdir / f"load-{processes}-{connections}"
    command = [str(BIN / "dlr-conformance"), "load", "--target-url", url, "--rate", f"{rate:g}"]
    command += ["--duration", f"{seconds:g}s", "--processes", str(processes), "-q"]
    if connections:
        command += ["--connections", str(connections)]
    command += ["--html", str(out / "load.html"), "--json", str(out / "s.json"), "--junitxml", str(out / "j.xml")]
    subprocess.run(command, cwd=workdir, capture_output=True, check=False)
    summary: dict[str, Any] = json.loads((out / "s.json").read_text(encoding="utf-8"))
    return summary


def main() -> int:
    """Measure every tool in turn and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=6000.0, help="the load mode's target, above its ceiling")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="then this many interleaved pairs of plain FastHttpUser and the load mode, both with 20 users, on 1 and "
        "on 2 processes: consecutive runs of the same tool differ by up to 15%% on this machine, so the ratio is "
        "taken per pair and the median reported",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlr-load-bench-") as tmp:
        workdir = Path(tmp)
        receiver, base = start_receiver(workdir)
        url = f"{base}/dlr"
        results = []
        try:
            results.append(measured("bare requests (1 in flight)", base, lambda: bare(url, args.seconds)))
            plain = [("HttpUser", 1), ("FastHttpUser", 1), ("FastHttpUser", 2)]
            for user, processes in plain:
                results.append(
                    measured(
                        f"locust {user} (20 users, no wait{', 2 processes' if processes > 1 else ''})",
                        base,
                        lambda u=user, p=processes: plain_locust(url, args.seconds, u, workdir, p),
                    )
                )
            # like for like: 20 connections, as the plain scripts' 20 users; then the default (one per 20/s)
            for processes, connections in ((1, 20), (2, 20), (1, 0)):
                summaries: list[dict[str, Any]] = []
                users = f"{connections} users" if connections else f"{default_users(args.rate)} users, the default"
                row = measured(
                    f"dlr-conformance load ({users}{', 2 processes' if processes > 1 else ''})",
                    base,
                    lambda p=processes, c=connections, s=summaries: s.append(
                        load_mode(url, args.seconds, args.rate, p, workdir, c)
                    ),
                )
                row["summary_rate"] = summaries[0]["rate_achieved"] if summaries else None
                row["p99_s"] = summaries[0]["latency_s"]["p99"] if summaries else None
                results.append(row)
            pairs = {1: [], 2: []}
            for _ in range(args.pairs):
                for processes in (1, 2):
                    plain_rate = measured(
                        f"  pair: plain FastHttpUser, {processes} process(es)",
                        base,
                        lambda p=processes: plain_locust(url, args.seconds, "FastHttpUser", workdir, p),
                    )["rate"]
                    load_rate = measured(
                        f"  pair: load --connections 20, {processes} process(es)",
                        base,
                        lambda p=processes: load_mode(url, args.seconds, args.rate, p, workdir, 20),
                    )["rate"]
                    pairs[processes].append(round(load_rate / plain_rate, 3))
        finally:
            receiver.kill()
    fast = {("2 processes" in r["name"]): r["rate"] for r in results if "FastHttpUser" in r["name"]}
    for row in results:
        if row["name"].startswith("dlr-conformance"):
            two = "2 processes" in row["name"]
            print(f"{row['name']}: {row['rate'] / fast[two]:.0%} of plain Locust FastHttpUser on as many processes")
    for processes, ratios in pairs.items():
        if ratios:
            shown = ", ".join(f"{r:.0%}" for r in ratios)
            print(
                f"interleaved pairs, {processes} process(es), 20 users each: load / plain FastHttpUser = {shown}; "
                f"median {statistics.median(ratios):.0%}"
            )
    if args.out:
        document = {"seconds": args.seconds, "results": results, "pair_ratios": pairs}
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
