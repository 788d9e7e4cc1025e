"""The generator worker cuts a long search into Hypothesis runs of bounded size (flat memory at any --examples),
and still replays and shrinks a failure found in any of them."""

from __future__ import annotations

import multiprocessing

from conformance.generation import worker
from conformance.generation.aspects import Ids
from conformance.generation.worker import chunks


def test_chunks_cover_the_examples_with_the_first_seed_unchanged() -> None:
    runs = list(chunks(1_000_001, 7, 25))
    assert sum(count for _, count in runs) == 1_000_001
    assert runs[0] == (7, worker.CHUNK * 25)
    assert len({seed for seed, _ in runs}) == len(runs)
    assert list(chunks(100, 7, 25)) == [(7, 100)]  # a small run draws exactly as before


def test_a_failure_in_a_later_run_is_replayed_in_that_run() -> None:
    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe(duplex=True)
    # 2 test cases of 5 callbacks per Hypothesis run: 60 callbacks are 6 runs
    process = ctx.Process(target=worker._work, args=(60, 11, 5, child, 2), daemon=True)
    process.start()
    child.close()
    masked = Ids("0000abcd").pattern()  # every replay step draws new ids: compare bodies with them masked
    try:
        conn.send(("tag", "0000abcd"))
        batches = []
        while True:
            message = conn.recv()
            if message[0] == "done":
                break
            batches.append([body for body, *_ in message[1]])
        assert sum(map(len, batches)) == 60
        failing = batches[5][2]  # the third callback of the sixth batch: in the third run
        conn.send(("shrink", failing))
        # the replay skips the earlier runs' batches (they passed) and delivers the failing body first: that is the
        # property; what Hypothesis's shrinker does after it (minutes of steps here, bounded by the generated check's
        # budget in a run) is not this test's business, so the worker is stopped there
        message = conn.recv()
        assert message[0] == "deliver", f"the replay did not reach the failing body: {message[0]}"
        assert masked.sub(b"#", message[1]) == masked.sub(b"#", failing), "the replay delivered another body first"
    finally:
        conn.close()
        process.terminate()
        process.join(timeout=30)
