"""What the receiver stored, read back with the state reader after the deliveries.

Each scenario delivers the callbacks its requirement is about, then reads the stored state of every message the
run has reported on so far (this file runs after the others, so the edge cases, batches, duplicates, the burst,
the stream and the generated payloads are all judged) and polls until its scenario check holds or
``--state-timeout`` passes. Without a state reader nothing is sent and the requirement is reported not checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from conformance.checks.stored import EARLY
from conformance.contract import KNOWN_STATUSES
from conformance.delivery.sender import PLATFORM_RETRY_MOST
from conformance.engine.run import Driver
from conformance.engine.store import NO_READER, Reader
from conformance.generation.aspects import HOSTILE
from conformance.generation.cases import base_record, callback, fresh
from conformance.options import RunOptions

RETRIES = PLATFORM_RETRY_MOST.attempts - 1  # the platform's retries, at the most (delivery.py)
COPIES = 5
ROUNDS = 3
UNKNOWN_STATUSES = ("READ", "CLICKED", "X_FUTURE_STATUS_" + "S" * 16)


def _sends(n: Callable[[RunOptions], int]) -> Callable[[RunOptions], int]:
    """Requests a scenario sends: none without a state reader (it is then not run)."""
    return lambda o: n(o) if o.state_cmd or o.target_url is None else 0


NO_STATUS_MAP = (
    "not checked: no status map was given, so which of the receiver's words stands for which status is unknown; "
    "give one with --status-map FILE (see docs/how-to/state.md)"
)


def _judge(dlr_driver: Driver, reader: Reader | None) -> None:
    """Read the stored state until the requirement's check holds, then pass, fail, or report it not checked."""
    assert reader is not None
    outcome = dlr_driver.await_stored(reader)
    if outcome.not_checked and outcome.passed and not dlr_driver.own_failures:
        dlr_driver.note_recorded()  # what it found is recorded under the requirements its payloads exercise
        pytest.skip("not checked: " + "; ".join(outcome.not_checked))
    dlr_driver.verify()


def _batch(dlr_driver: Driver, n: int, prefix: str) -> dict[str, Any]:
    records = [base_record(message_id=f"{prefix}{i:07d}", to=f"35699{i:06d}") for i in range(n)]
    return fresh(callback(*records), dlr_driver.run.run_id)


def _report(status: str, stamp: int) -> dict[str, Any]:
    return base_record(status=status, timestamp=stamp, micro_timestamp=stamp * 1000 + 145)


def _burst_size(options: RunOptions) -> int:
    return options.concurrency


def _stored_requests(options: RunOptions) -> int:
    """The batches, the unknown statuses, the refused batch (with a preparer) and the burst."""
    return 3 + len(UNKNOWN_STATUSES) + (1 if options.prepare_cmd else 0) + _burst_size(options)


@pytest.mark.requirement("DLR-13", requests=_sends(_stored_requests))
def test_acknowledged_reports_are_stored(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """Every record of every callback answered 200 is stored: batches of 3, 150 and 1,000, unknown statuses, a
    burst, and every other scenario of the run. With a preparer, a batch of 7 whose 4th record has a status a
    receiver may refuse: if refused, the reports show which of its records were applied anyway."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    for n, prefix in ((3, "1446644528740"), (150, "1446644528741"), (1000, "1446644528742")):
        dlr_driver.deliver(_batch(dlr_driver, n, prefix), label=f"batch of {n} records")
    for status in UNKNOWN_STATUSES:
        dlr_driver.deliver(fresh(callback(base_record(status=status)), dlr_driver.run.run_id), label=f"status {status}")
    if dlr_driver.run.preparer is not None:  # known messages: a status the receiver refuses, mid-batch
        records = [base_record(message_id=f"3446644528744{i:07d}") for i in range(7)]
        records[3]["status"] = UNKNOWN_STATUSES[-1]
        body = fresh(callback(*records), dlr_driver.run.run_id)
        dlr_driver.deliver(body, label="batch of 7 records, the 4th with an unknown status of 32 characters")
    n = _burst_size(dlr_driver.run.options)
    burst = [fresh(callback(base_record(message_id=f"2446644528743{i:07d}")), dlr_driver.run.run_id) for i in range(n)]
    dlr_driver.deliver_many(burst, concurrency=n, labels=[f"burst callback {i + 1} of {n}" for i in range(n)])
    _judge(dlr_driver, dlr_state_reader)


@pytest.mark.requirement("DLR-14", requests=_sends(lambda o: RETRIES + 1 + ROUNDS * min(o.concurrency, COPIES) + 4))
def test_retries_processed_once(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """A callback delivered 4 times in sequence, copies arriving together (in rounds), and a progression whose two
    reports are each delivered twice: every distinct report is processed once."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    run = dlr_driver.run
    payload = fresh(callback(), run.run_id)
    for attempt in range(RETRIES + 1):
        if attempt and run.sender.unreachable is None:
            time.sleep(run.options.retry_interval)
        dlr_driver.deliver(payload, label=f"copy {attempt + 1} of {RETRIES + 1} (sequential retry)")
    copies = min(run.options.concurrency, COPIES)
    for round_ in range(ROUNDS):
        payload = fresh(callback(), run.run_id)
        labels = [f"round {round_ + 1} of {ROUNDS}: copy {i + 1} of {copies} (concurrent)" for i in range(copies)]
        dlr_driver.deliver_many([payload] * copies, concurrency=copies, labels=labels)
    enroute = fresh(callback(_report("ENROUTE", 1443165170)), run.run_id)
    delivered = {
        **enroute,
        "data": [{**_report("DELIVRD", 1443165174), "message_id": enroute["data"][0]["message_id"]}],
    }
    for label, body in (("ENROUTE", enroute), ("DELIVRD", delivered)):
        for copy in (1, 2):
            dlr_driver.deliver(body, label=f"{label} of a progression, copy {copy} of 2")
    _judge(dlr_driver, dlr_state_reader)


@pytest.mark.requirement("DLR-15", requests=_sends(lambda o: 7 + 4))
def test_newest_status_wins(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """Reports of one message out of order (a final status, then an older one; across callbacks and within one
    batch) and in order: the stored status is the one with the newest timestamp, and every other value is the newest
    report's (ENROUTE with error_code 943, DELIVRD with 0, in either order: 0 is stored)."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    run_id = dlr_driver.run.run_id
    final = fresh(callback(_report("DELIVRD", 1443165174)), run_id)
    older = {**final, "data": [{**_report("ENROUTE", 1443165170), "message_id": final["data"][0]["message_id"]}]}
    dlr_driver.deliver(final, label="out of order across callbacks: DELIVRD first")
    dlr_driver.deliver(older, label="out of order across callbacks: then the older ENROUTE")
    batch = fresh(callback(_report("DELIVRD", 1443165174), _report("ENROUTE", 1443165170)), run_id)
    dlr_driver.deliver(batch, label="out of order within one batch: DELIVRD, then the older ENROUTE")
    progression = fresh(callback(_report("ACCEPTD", 1443165160)), run_id)
    message_id = progression["data"][0]["message_id"]
    for status, stamp in (("ACCEPTD", 1443165160), ("ENROUTE", 1443165170), ("DELIVRD", 1443165174)):
        body = {**progression, "data": [{**_report(status, stamp), "message_id": message_id}]}
        dlr_driver.deliver(body, label=f"in order across callbacks: {status}")
    in_batch = fresh(callback(_report("ENROUTE", 1443165170), _report("UNDELIV", 1443165180)), run_id)
    dlr_driver.deliver(in_batch, label="in order within one batch: ENROUTE, then UNDELIV")
    # every value of the newest report wins: an error of an intermediate report, then the final one with error 0
    for order in (("ENROUTE", "DELIVRD"), ("DELIVRD", "ENROUTE")):
        first = fresh(callback({**_report("ENROUTE", 1443165170), "error_code": 943}), run_id)
        reports = {
            "ENROUTE": first["data"][0],
            "DELIVRD": {**_report("DELIVRD", 1443165174), "message_id": first["data"][0]["message_id"]},
        }
        how = "in order" if order[0] == "ENROUTE" else "out of order"
        for status in order:
            body = {**first, "data": [reports[status]]}
            dlr_driver.deliver(
                body, label=f"newest values {how}: {status} with error_code {reports[status]['error_code']}"
            )
    _judge(dlr_driver, dlr_state_reader)


INTACT: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    (
        "timestamps in milliseconds and microseconds",
        {"timestamp": 1443165174145, "micro_timestamp": 1443165174145000},
        {},
    ),
    ("error_code 32767 on DELIVRD", {"error_code": 32767}, {}),
    ("error_code -32768", {"error_code": -32768, "status": "UNDELIV"}, {}),
    ("error_code 943 on DELIVRD", {"error_code": 943}, {}),
    ("error_code 300", {"error_code": 300, "status": "REJECTD"}, {}),
    ("unicode sender and ids", {"client_message_id": "réf-✓-😀", "from_": "Zürich ✓"}, {"client_job_id": "job-ø-测试"}),
    ("client_job_id of 255 characters", {}, {"client_job_id": "J" * 254 + "Z"}),
    ("exact status string SEEN", {"status": "SEEN", "type": "IM_VIBER"}, {}),
    ("unknown status of 32 characters", {"status": "X_FUTURE_STATUS_" + "S" * 16}, {}),
    ("to of 15 digits and a numeric sender", {"to": "356990000000000", "from_": "123456789012345"}, {}),
    ("sender as sms_from and viber_from", {"from_": None, "sms_from": "Fortytwo", "viber_from": "FortytwoViber"}, {}),
    # hostile text the contract allows: a receiver building SQL by concatenation stores it mangled (or answers 500)
    ("hostile text in client ids", {"client_message_id": "".join(HOSTILE)}, {"client_job_id": "".join(HOSTILE)}),
    ("hostile text in the sender", {"from_": "' OR '1'='1"}, {}),
    (
        "hostile text in sms_from and viber_from",
        {"sms_from": "%s%n$(id)", "viber_from": "".join(HOSTILE)},
        {},
    ),
    (
        "hostile text in message_id and api_job_id",
        {"message_id": "14466445287' OR '1'='1"},
        {"api_job_id": "0c6ccf37-dd15' OR '1'='1{{7*7}}$(id)"},
    ),
)


@pytest.mark.requirement("DLR-16", requests=_sends(lambda o: len(INTACT)))
def test_values_stored_intact(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """Values over their whole range, unicode and long strings: every field the reader returns is what was sent."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    for name, record, top in INTACT:
        dlr_driver.deliver(fresh(callback(base_record(**record), **top), dlr_driver.run.run_id), label=name)
    _judge(dlr_driver, dlr_state_reader)


def _mapped(n: Callable[[RunOptions], int]) -> Callable[[RunOptions], int]:
    """Requests a scenario sends that is judged against the status map: none without one."""
    return lambda o: _sends(n)(o) if o.status_map else 0


@pytest.mark.requirement("DLR-19", requests=_mapped(lambda o: len(KNOWN_STATUSES)))
def test_every_status_recognised(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """Every documented status, each to a message of its own (prepared first when there is a preparer): each is
    stored as the receiver's word for it, as its status map says."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    if dlr_driver.run.status_map is None:
        pytest.skip(NO_STATUS_MAP)
    for status in KNOWN_STATUSES:
        body = fresh(
            callback(base_record(status=status, type="IM_VIBER" if status == "SEEN" else "SMS")), dlr_driver.run.run_id
        )
        dlr_driver.deliver(body, label=f"status {status}")
    _judge(dlr_driver, dlr_state_reader)


# reports the platform can send before the customer's sending code has stored the message id it got back
EARLY_REPORTS = (("REJECTD", 1443165160), ("ACCEPTD", 1443165162), ("ENROUTE", 1443165164))


@pytest.mark.requirement("DLR-22", requests=lambda o: len(EARLY_REPORTS) if o.state_cmd and o.prepare_cmd else 0)
def test_early_reports_are_kept(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """Reports of messages not stored yet (a fast rejection, an early ACCEPTD), then the messages are prepared;
    each report answered other than 200 is delivered again after a pause, as the platform retries it. Every report
    must show in the stored state: kept for later, or retried. Runs last of the stored-state scenarios, so that
    only its own check judges its messages."""
    if dlr_state_reader is None:
        pytest.skip(NO_READER)
    run = dlr_driver.run
    if run.preparer is None:
        pytest.skip(
            "not checked: a report before its message is known needs the messages created after it, with a preparer "
            "(--prepare-cmd)"
        )
    early = [fresh(callback(_report(status, stamp)), run.run_id) for status, stamp in EARLY_REPORTS]
    labels = [f"{EARLY}: {status}, before the preparer created its message" for status, _ in EARLY_REPORTS]
    outcomes = dlr_driver.deliver_unknown(early, labels)
    dlr_driver.prepare(early)
    again = [
        (body, status) for body, (status, _), o in zip(early, EARLY_REPORTS, outcomes, strict=True) if not o.exchange.ok
    ]
    if again and run.sender.unreachable is None:
        time.sleep(run.options.retry_interval)
    for body, status in again:
        dlr_driver.deliver(body, label=f"{EARLY}: {status} again, as the platform retries it, its message now created")
    _judge(dlr_driver, dlr_state_reader)
