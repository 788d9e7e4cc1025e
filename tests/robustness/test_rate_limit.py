"""--max-rps holds in every one-second window at the target; the plan is printed first; the traffic names itself."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from conformance import __version__
from tests.support.runs import finish_suite, start_suite

if TYPE_CHECKING:
    from tests.support.runs import SuiteRun
    from tests.support.servers import Recorder

RATE = 20


def test_max_rps_holds_in_every_window_across_concurrent_checks(
    recorder: Callable[..., Recorder], tmp_path: Path
) -> None:
    """The burst, the concurrent duplicates and the generated check together: never more than R a second; the plan
    is printed before the first request (the installed command: when each line reaches a pipe is the point)."""
    receiver = recorder()
    args = ("--max-rps", str(RATE), "--examples", "60", "--timeout", "5")
    with start_suite(tmp_path, receiver.url, *args, "-k", "burst or concurrent_duplicates or generated") as process:
        run = finish_suite(process, tmp_path, limit=120)
    assert run.code == 0, run.stdout[-3000:] + run.stderr

    arrivals = sorted(a.at for a in receiver.arrivals)
    # concurrent duplicates (3 rounds of 5), generated: nothing failed, nothing shrunk; the burst is not sent under a
    # rate cap (capacity is not checked then)
    assert len(arrivals) == 15 + 60
    assert {row["id"]: row["state"] for row in run.summary["requirements"]}["DLR-11"] == "not_checked"
    busiest = max(sum(start <= t <= start + 1.0 for t in arrivals) for start in arrivals)
    assert busiest <= RATE, f"{busiest} requests arrived within one second"

    planned = [(at, line) for at, line in run.lines if "dlr-conformance: sending" in line]
    assert planned, run.stdout[:2000]
    at, line = planned[0]
    assert at < arrivals[0], "the plan was printed after the first request arrived"
    match = re.search(r"sending (\d+) requests", line)
    assert match is not None
    assert int(match.group(1)) == len(arrivals) == run.summary["requests_sent"]
    assert f"at most {RATE} per second" in line


def test_traffic_identifies_itself(recorder: Callable[..., Recorder], cli: Callable[..., SuiteRun]) -> None:
    """Every request names the tool and the run; the reports list the run id and every api_job_id it used."""
    receiver = recorder()
    run = cli("--target-url", receiver.url, "--examples", "5", "--timeout", "5", "-k", "documented or generated")
    assert run.code == 0, run.stdout[-3000:]
    summary = run.summary
    run_id = summary["run_id"]
    agents = {a.headers.get("User-Agent") for a in receiver.arrivals}
    assert agents == {f"dlr-conformance/{__version__} (conformance test run {run_id})"}
    sent_ids = {json.loads(a.body)["api_job_id"] for a in receiver.arrivals}
    assert len(receiver.arrivals) == 6
    assert sent_ids <= set(summary["api_job_ids"])
    report = run.html_text()
    assert run_id in report
    assert "api_job_ids" in report
    assert all(job_id in report for job_id in sent_ids)
