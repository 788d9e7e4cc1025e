"""Test data that cannot be read two ways: every sequence of reports the suite sends for one message orders
``timestamp`` and ``micro_timestamp`` the same way, so "newest" means one report whichever field a receiver
compares (docs/explanation/verdicts.md#which-report-is-the-newest)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from tests.support.cli import invoke
from tests.support.servers import Recorder


def test_every_sequence_orders_both_timestamps_the_same_way(tmp_path: Path) -> None:
    """Every scenario but the generated payloads (drawn at random, one report a message), delivered to a receiver
    that records them, with a reader so that the stored-state scenarios deliver too."""
    with Recorder().start() as receiver:
        done = invoke(
            "--target-url", receiver.url, "-k", "not generated", "--retry-interval", "0", "--state-cmd", "true",
            "--state-timeout", "0.5", cwd=tmp_path,
        )  # fmt: skip
        bodies = receiver.bodies
    assert done.code in (0, 1), done.output[-2000:]
    stamps: dict[str, set[tuple[int, int]]] = defaultdict(set)
    parsed = []
    for body in bodies:
        try:
            parsed.append(json.loads(body))
        except ValueError:  # DLR-21's callback, cut off halfway on purpose
            continue
    assert len(parsed) == len(bodies) - 1
    for payload in parsed:
        for record in payload["data"]:
            stamps[record["message_id"]].add((record["timestamp"], record["micro_timestamp"]))
    sequences = {message: sorted(pairs) for message, pairs in stamps.items() if len(pairs) > 1}
    assert len(sequences) >= 5  # the out-of-order and progression scenarios
    for message, pairs in sequences.items():
        micros = [micro for _, micro in pairs]
        assert micros == sorted(set(micros)), f"message {message}: timestamp and micro_timestamp disagree: {pairs}"
        assert len({stamp for stamp, _ in pairs}) == len(pairs), f"message {message}: timestamps tie: {pairs}"
