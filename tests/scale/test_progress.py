"""The progress line: live on a terminal (a pseudo-terminal here), plain lines in a pipe, silent with -q and for
short runs, never in the reports; and the counts it shows."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.engine.run import Run
from conformance.options import RunOptions
from conformance.pytest.progress import describe
from conformance.requirements import by_id
from tests.support.process import CLI, run
from tests.support.runs import SuiteRun
from tests.support.servers import Recorder, answer

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


def _on_pty(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run the installed command with a pseudo-terminal (120 columns) as its stdout and stderr."""
    done = run([CLI, *args, *_reports(tmp_path)], cwd=tmp_path, terminal=True, timeout=120)
    return done.code, done.stdout


def _assert_not_in_reports(tmp_path: Path, code: int, output: str) -> None:
    reports = SuiteRun(code, output, "", tmp_path / "r.html", tmp_path / "j.xml", tmp_path / "s.json").check_agreement()
    for text in (reports.html, reports.junit_path.read_text(encoding="utf-8"), str(reports.summary)):
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
    # ~12 s at 5 per second: one plain line at 10 s; the installed command's stdout is a pipe (the progress goes to
    # pytest's own output file, past its capture: a file descriptor, which an in-process run's stdout has not)
    args = ["-k", "generated", "--examples", "60", "--max-rps", "5", "--seed", "7", *_reports(tmp_path)]
    done = run([CLI, *args], cwd=tmp_path, timeout=300)
    assert done.code == 0, done.stdout[-2000:]
    lines = re.findall(r"^dlr-conformance: (\d+)/60 requests sent, 0 failed, \d+/s, elapsed 1\ds.*$", done.stdout, re.M)
    assert len(lines) == 1, done.stdout
    assert 0 < int(lines[0]) < 60
    assert "\x1b" not in done.stdout
    _assert_not_in_reports(tmp_path, done.code, done.output)


def test_nothing_for_a_short_run(tmp_path: Path) -> None:
    code, output = _on_pty(tmp_path, "-k", "generated", "--examples", "6", "--max-rps", "3")
    assert code == 0, output[-2000:]
    assert "requests sent," not in output
    assert "\x1b[K" not in output


def test_the_line_counts_failed_deliveries() -> None:
    server = Recorder(answer(500)).start()
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
