"""Benchmark: peak memory and rate of the generated check at 1,000 / 100,000 / 1,000,000 examples.

Each size is one ``dlr-conformance --target-url URL -k generated --examples N`` run against the counting receiver
(``bench/receiver.py``, its own process, so that its memory is not counted), the reports written as usual. The
peak RSS of each process of the run (the main process and the generator worker) is sampled from ``/proc`` every
0.2 s; the rate is callbacks counted at the receiver divided by the whole command's time.

``python bench/memory_bench.py [--sizes 1000,100000,1000000] [--out results.json]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BIN, start_receiver, stats  # the sibling script


def _tree(pid: int) -> list[int]:
    found = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found += _tree(int(child))
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(url: str, base: str, examples: int, workdir: Path) -> dict[str, Any]:
    """One run of ``examples`` generated callbacks: peak RSS per process, wall time, rate."""
    out = workdir / f"run-{examples}"
    command = [str(BIN / "dlr-conformance"), "--target-url", url, "-k", "generated", "--examples", str(examples)]
    command += ["--seed", "1", "-q", "--html", str(out / "r.html"), "--junitxml", str(out / "j.xml")]
    command += ["--json", str(out / "s.json")]
    stats(base, reset=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict[int, int] = {}
    total_peak = 0
    while process.poll() is None:
        current = {pid: _rss_kib(pid) for pid in _tree(process.pid)}
        for pid, kib in current.items():
            peaks[pid] = max(peaks.get(pid, 0), kib)
        total_peak = max(total_peak, sum(current.values()))
        time.sleep(0.2)
    wall = time.monotonic() - started
    got = stats(base, reset=True)
    by_size = sorted(peaks.values(), reverse=True)
    result = {
        "examples": examples,
        "exit_code": process.returncode,
        "callbacks": got["count"],
        "wall_s": round(wall, 1),
        "rate": round(got["count"] / wall, 1),
        "peak_rss_mib_largest_process": round(by_size[0] / 1024, 1) if by_size else None,
        "peak_rss_mib_per_process": [round(k / 1024, 1) for k in by_size],
        "peak_rss_mib_all_processes": round(total_peak / 1024, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    """Measure each size in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlr-memory-bench-") as tmp:
        workdir = Path(tmp)
        receiver, base = start_receiver(workdir)
        try:
            results = [measure(f"{base}/dlr", base, int(n), workdir) for n in args.sizes.split(",")]
        finally:
            receiver.kill()
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
