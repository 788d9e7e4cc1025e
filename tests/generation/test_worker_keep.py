"""The generator worker shrinks a failure the main process met long before the search ended.

The search goes on past failures of SHOULD level (a MUST fault drawn later must still be found), so the failure
shrunk at the end may be one sent hundreds of batches earlier: the main process asks the worker to keep its origin
when it happens. Ids never repeat across the worker's Hypothesis runs, and the replay draws the same ones again.
"""

from __future__ import annotations

import multiprocessing

from conformance.generation import worker
from conformance.generation.aspects import Ids

TAG = "0000beef"


def test_a_kept_failure_is_replayed_after_many_later_batches() -> None:
    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe(duplex=True)
    # batches of 1 callback, Hypothesis runs of 5 test cases: 20 batches in 4 runs, more than the window of
    # recent batches the worker remembers (4 here, 256 in a real run)
    process = ctx.Process(target=worker._work, args=(20, 5, 1, child, 5, 4), daemon=True)
    process.start()
    child.close()
    masked = Ids(TAG).pattern()
    try:
        conn.send(("tag", TAG))
        bodies: list[bytes] = []
        failing = b""
        while True:
            message = conn.recv()
            if message[0] == "done":
                break
            bodies += [body for body, *_ in message[1]]
            if not failing and len(bodies) > 2:
                failing = bodies[2]  # in the first run; it fails: keep it
                conn.send(("keep", failing))
        assert len(bodies) == 20
        jobs = [body.split(b'"api_job_id":"', 1)[1][:36] for body in bodies]
        assert len(set(jobs)) == 20  # no id repeats across the four Hypothesis runs
        conn.send(("shrink", failing))
        first = conn.recv()
        assert first[0] == "deliver", "the replay did not reach the kept failing body"
        assert masked.sub(b"#", first[1]) == masked.sub(b"#", failing)  # the same payload, drawn again
        conn.send(True)
        while (message := conn.recv())[0] == "deliver":
            conn.send(True)  # every shrink step fails too: Hypothesis goes straight to the simplest payload
        assert message[0] == "shrunk"
        assert message[1] is not None
    finally:
        conn.close()
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
