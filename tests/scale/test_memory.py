"""What keeps a long run's memory flat: streaming latency quantiles and api_job_ids spilled to a file."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

from conformance.engine import quantiles
from conformance.engine.quantiles import Quantiles
from conformance.engine.run import MAX_IDS, Run
from conformance.options import RunOptions


def test_quantiles_are_exact_for_small_runs() -> None:
    values = [random.Random(1).lognormvariate(-5, 1) for _ in range(1001)]
    q = Quantiles()
    for v in values:
        q.add(v)
    assert not q.estimated
    assert q.quantile(0.5) == statistics.median(values)
    assert q.quantile(0.95) == sorted(values)[950]
    assert q.max == max(values)


def test_quantiles_past_the_exact_limit_are_within_half_a_percent() -> None:
    rng = random.Random(2)
    values = [rng.lognormvariate(-5, 1.5) for _ in range(quantiles.EXACT * 5)]
    q = Quantiles()
    for v in values:
        q.add(v)
    assert q.estimated
    assert q.count == len(values)
    assert q.max == max(values)
    ordered = sorted(values)
    for share in (0.5, 0.95, 0.99):
        true = ordered[round(share * (len(values) - 1))]
        estimate = q.quantile(share)
        assert estimate is not None
        assert abs(estimate - true) / true < 0.005, (share, estimate, true)
    assert len(q._buckets) < 2000  # constant memory, whatever the count


def test_api_job_ids_past_the_cap_go_to_a_file_listing_every_one(tmp_path: Path) -> None:
    run = Run(RunOptions(seed=1), "http://127.0.0.1:9/dlr")
    ids_file = tmp_path / "summary.api_job_ids.txt"
    ids_file.write_text("from an earlier run\n")
    run.spill_ids_to(ids_file)
    try:
        for i in range(MAX_IDS):
            run.note_job({"api_job_id": f"job-{i}"})
        run.note_job({"api_job_id": "job-0"})  # seen: not listed again
        assert run.ids_file_written() is None
        assert not ids_file.exists()  # the earlier run's file is gone
        for i in range(MAX_IDS, MAX_IDS + 5):
            run.note_job_body(f'{{"api_job_id":"job-{i}","data":[]}}'.encode())
        assert len(run.api_job_ids) == MAX_IDS
        assert run.ids_file_written() == str(ids_file)
        listed = ids_file.read_text().splitlines()
        assert listed == [f"job-{i}" for i in range(MAX_IDS + 5)]
    finally:
        run.close()
