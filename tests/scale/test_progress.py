"""The progress line: live on a terminal (a pseudo-terminal here), plain lines in a pipe, silent with -q and for
short runs, never in the reports; and the counts it shows."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from fault_runs import CLI, read_reports
from fault_serving import serve

from conformance.engine.run import Run
from conformance.options import RunOptions
from conformance.pytest.progress import describe
from conformance.requirements import by_id

# ~8 s against the reference receiver: past the 5 s before a live line appears
SLOW = ("-k", "generated", "--examples", "40", "--max-rps", "5", "--seed", "7")
LIVE = re.compile(r"\x1b\[K\x1b\[2m dlr-conformance: (\d+)/40 requests sent, 0 failed, \d+/s, elapsed \ds")


def _reports(tmp_path: Path) -> list[str]:
    return [
        "--html",
        str(tmp_path / "r.html"),
        "--junitxml",
        str(tmp_path / "j.xml"),
        "--json",
        str(tmp_path / "s.json"),
    ]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLR_", "PYTEST_"))}
    env["TERM"] = "xterm"
    return env


def _on_pty(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run the installed command with a pseudo-terminal (120 columns) as its stdout and stderr."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [str(CLI), *args, *_reports(tmp_path)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=_env(),
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120  # it ends
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 0.5)[0]:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the command closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def _assert_not_in_reports(tmp_path: Path, code: int, output: str) -> None:
    reports = read_reports(code, output, tmp_path / "r.html", tmp_path / "j.xml", tmp_path / "s.json")
    for text in (reports.html, (tmp_path / "j.xml").read_text(encoding="utf-8"), str(reports.summary)):
        assert "requests sent," not in text


def test_live_line_on_a_terminal(tmp_path: Path) -> None:
    code, output = _on_pty(tmp_path, *SLOW)
    assert code == 0, output[-2000:]
    drawn = [int(m.group(1)) for m in LIVE.finditer(output)]
    assert len(drawn) >= 2, f"no live progress line was drawn:\n{output!r}"
    assert drawn == sorted(drawn), "the count of requests sent went backwards"
    assert "ETA" in output
    # drawn in place: never a line of its own; the cursor is put back where pytest's dots go on
    assert not re.search(r"\n dlr-conformance: \d+/40", output)
    assert re.search(r"\x1b\[\d+D", output)
    assert "verdict: CONFORMANT" in output
    _assert_not_in_reports(tmp_path, code, output)


def test_quiet_silences_it(tmp_path: Path) -> None:
    code, output = _on_pty(tmp_path, *SLOW, "-q")
    assert code == 0, output[-2000:]
    assert "requests sent," not in output
    assert "verdict: CONFORMANT" in output


def test_plain_lines_in_a_pipe(tmp_path: Path) -> None:
    # ~12 s at 5 per second: one plain line at 10 s
    args = [str(CLI), "-k", "generated", "--examples", "60", "--max-rps", "5", "--seed", "7", *_reports(tmp_path)]
    done = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    lines = re.findall(r"^dlr-conformance: (\d+)/60 requests sent, 0 failed, \d+/s, elapsed 1\ds.*$", done.stdout, re.M)
    assert len(lines) == 1, done.stdout
    assert 0 < int(lines[0]) < 60
    assert "\x1b" not in done.stdout
    _assert_not_in_reports(tmp_path, done.returncode, done.stdout + done.stderr)


def test_nothing_for_a_short_run(tmp_path: Path) -> None:
    code, output = _on_pty(tmp_path, "-k", "generated", "--examples", "6", "--max-rps", "3")
    assert code == 0, output[-2000:]
    assert "requests sent," not in output
    assert "\x1b[K" not in output


def test_the_line_counts_failed_deliveries() -> None:
    class Fails(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = serve(Fails)
    run = Run(RunOptions(target_url=server.url, seed=1), server.url)
    try:
        driver = run.driver(by_id("DLR-01"), "progress")
        for _ in range(3):
            driver.deliver({"api_job_id": "x", "data": []})
        assert run.failed_deliveries == 3
        assert describe(run.requests_sent, 10, run.failed_deliveries, 3.0).startswith(
            "dlr-conformance: 3/10 requests sent, 3 failed, 1/s, elapsed 3s, ETA 7s"
        )
    finally:
        run.close()
        server.stop()


def test_describe() -> None:
    assert describe(50_000, 100_000, 0, 50.0) == (
        "dlr-conformance: 50,000/100,000 requests sent, 0 failed, 1,000/s, elapsed 50s, ETA 50s"
    )
    assert describe(3_700, 4_000, 2, 3700.0).endswith("1/s, elapsed 1h01m, ETA 5m00s")
    # past the plan (a failure being shrunk): no ETA
    assert "ETA" not in describe(120, 100, 1, 10.0)
