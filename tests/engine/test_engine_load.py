"""``load`` as a face of the engine: the suite's diagnosis when the reader knows none of the messages, and ``--seed``
fixing the campaign traffic (the same bodies again, ids and timestamps aside)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.ledger import CompactLedger, LedgerLines
from conformance.engine.run import Run
from conformance.generation.campaign import Campaign, templates
from conformance.load.stored import await_stored
from conformance.load.traffic import user_seed
from conformance.options import RunOptions
from conformance.reference.embedded import EmbeddedReceiver
from conformance.requirements import by_key
from tests.support.servers import Recorder

PREPARE_HINT = "give --prepare-cmd to create the run's messages first"


def _knows_nothing(request: dict[str, Any]) -> list[dict[str, Any]]:
    return []


def test_a_reader_that_knows_nothing_gets_the_suites_diagnosis_in_the_load(tmp_path: Path) -> None:
    lines = LedgerLines(str(tmp_path / "ledger.tsv"))
    for i in range(3):
        lines.add([("job", f"m{i}", "DELIVRD")], True)
    lines.flush()
    result = await_stored(_knows_nothing, CompactLedger.read(tmp_path / "ledger.tsv"), "r", timeout=0.1)
    lost, once = result.requirements
    # the receiver keeps only messages it sent, as the platform expects: not checked, never a finding
    assert (lost.status, lost.failures, once.status) == ("not_checked", 0, "not_checked")
    shared = "the reader knows none of the 3 messages answered 200: the receiver keeps only messages it sent"
    assert lost.note.startswith(shared)
    assert "--prepare-cmd" in lost.note  # what to do, though load itself creates no message

    # the suite's driver, on the same situation, says the same sentence
    with EmbeddedReceiver() as receiver:
        run = Run(RunOptions(target_url=receiver.url, seed=1), receiver.url)
        try:
            run.keep_ledger("a reader")
            driver = run.driver(by_key("nothing_lost"), "diagnosis")
            for i in range(3):
                driver.deliver({"api_job_id": "job", "data": [{**_record(), "message_id": f"m{i}"}]})
            outcome = driver.await_stored(_knows_nothing)
        finally:
            run.close()
    assert not outcome.failures
    assert outcome.not_checked[0].startswith(shared)
    assert PREPARE_HINT in outcome.not_checked[0]


def _record() -> dict[str, Any]:
    return {"type": "SMS", "status": "DELIVRD", "timestamp": 1, "micro_timestamp": 1000, "to": "1", "error_code": 0}


@pytest.mark.slow  # the installed command, to its end
def test_the_load_command_says_it(tmp_path: Path, load: Callable[..., Any]) -> None:
    """Through the command: the bundled receiver stores, a reader that prints nothing is given."""
    done, summary = load(tmp_path, "--rate", "4", "--duration", "2s", "--state-cmd", "true", "--state-timeout", "0.5")
    state = summary["state"]
    lost = state["requirements"][0]
    assert lost["status"] == "not_checked", done.output[-3000:]
    assert "the receiver keeps only messages it sent" in done.stdout
    assert "DLR-13 failed" not in done.stdout  # never a finding against the receiver


# -- --seed fixes the traffic -----------------------------------------------------------------------------------
def _shape(body: bytes) -> str:
    """A body with what is the run's own blanked: ids (run-tagged, per process) and the time it was sent."""
    text = body.decode("utf-8")
    text = re.sub(r'"api_job_id":"[^"]*"', '"api_job_id":"#"', text)
    text = re.sub(r'"(message_id|client_message_id)":"[^"]*"', r'"\1":"#"', text)
    return re.sub(r'"(timestamp|micro_timestamp)":\d+', r'"\1":0', text)


def _load_bodies(load: Callable[..., Any], tmp_path: Path, seed: str) -> list[str]:
    with Recorder().start() as receiver:
        done, _ = load(tmp_path, "--target-url", receiver.url, "--rate", "6", "--duration", "3s", "--seed", seed, "-q")
        bodies = receiver.bodies
    assert done.code == 0, done.output[-3000:]
    return [_shape(body) for body in bodies]


@pytest.mark.slow  # the installed command, to its end
def test_one_seed_sends_the_same_bodies_again(tmp_path: Path, load: Callable[..., Any]) -> None:
    first = _load_bodies(load, tmp_path, "7")
    second = _load_bodies(load, tmp_path, "7")
    common = min(len(first), len(second))
    assert common >= 12
    assert first[:common] == second[:common]


def test_each_connection_has_its_own_traffic_from_the_seed() -> None:
    """What the command relies on: a user's seed depends on the run's seed, the process and the user's number."""
    assert user_seed(7, 0, 0) == user_seed(7, 0, 0)
    assert len({user_seed(7, 0, 0), user_seed(8, 0, 0), user_seed(7, 1, 0), user_seed(7, 0, 1)}) == 4
    drawn = templates(8, 7)

    def bodies(seed: int) -> list[str]:
        campaign = Campaign("run", drawn, seed=seed)
        return [_shape(campaign.next_body()) for _ in range(30)]

    assert bodies(user_seed(7, 0, 0)) == bodies(user_seed(7, 0, 0))
    assert bodies(user_seed(7, 0, 0)) != bodies(user_seed(8, 0, 0))
