"""The receiver's security: forged callbacks are refused and change nothing, error answers hide internals.

The platform signs nothing, so the credentials of a run are what its owner put in the callback URL or the
request (``conformance.delivery.credentials``). Forged callbacks go without them, one removed in turn, or one
altered; each must be refused, and with a state reader the message they target keeps its genuine status. Every
answer other than 200 the run got, the forged ones' included, is looked at for the receiver's internals: this
scenario runs last and reports what the whole run found.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from conformance.checks.stored import ForgeryStored, Problem, short_id
from conformance.contract.schema import documented_example, encode
from conformance.delivery import credentials
from conformance.engine.run import Driver
from conformance.engine.store import Reader
from conformance.generation.cases import base_record, callback, fresh
from conformance.options import RunOptions
from conformance.requirements import by_key

NO_CREDENTIALS = (
    "not checked: the run has no credentials to leave out (no --header, no password or secret query parameter in "
    "--target-url)"
)
GENUINE = ("ENROUTE", 1443165170)
FORGED = ("UNDELIV", 1443165180)  # a distinct, valid, newer status: a receiver that took it would store it


def _forged_requests(options: RunOptions) -> int:
    """The genuine report and the forgeries (none without credentials)."""
    if options.target_url is None:
        return 0
    found = credentials.forgeries(options.target_url, options.headers, options.public_params, random.Random(0))  # noqa: S311
    return len(found) + 1 if found else 0


def _report(status: str, stamp: int) -> dict[str, Any]:
    return base_record(status=status, timestamp=stamp, micro_timestamp=stamp * 1000 + 145)


@pytest.mark.requirement("DLR-20", requests=_forged_requests)
def test_forged_callbacks_refused(dlr_driver: Driver, dlr_state_reader: Reader | None) -> None:
    """A genuine report, then forged reports of a newer status for the same message: with no credential at all,
    with each credential removed in turn, with each credential's value altered. Each forgery is refused (not 2xx);
    with a state reader, the message keeps the genuine status."""
    run = dlr_driver.run
    if not run.forgeries:
        pytest.skip(NO_CREDENTIALS)
    genuine = fresh(callback(_report(*GENUINE)), run.run_id)
    message_id = genuine["data"][0]["message_id"]
    first = dlr_driver.deliver(
        genuine, label="the genuine report, with the run's credentials", checks=by_key("answered_200").checks
    )
    reader = dlr_state_reader if first.passed else None  # the stored state is compared only after a stored report
    if reader is not None:
        row = dlr_driver.read_stored(reader, genuine, lambda row: row is not None)
        if row is None or row.get("status") != GENUINE[0]:
            dlr_driver.notes.append(
                f"The stored state was not compared: the genuine report ({GENUINE[0]}) was not stored as such "
                f"within {run.options.state_timeout:g} s (the reader returned {row!r})."
            )
            reader = None
    forged = {**genuine, "data": [{**_report(*FORGED), "message_id": message_id}]}
    for forgery in run.forgeries:
        dlr_driver.deliver(forged, label=f"forged: {forgery.label}", forged=forgery)
    if reader is not None:
        # read until --state-timeout passes (or the status changes): a receiver that stores later is caught too
        row = dlr_driver.read_stored(reader, genuine, lambda row: row is None or row.get("status") != GENUINE[0])
        if row is not None and row.get("status") != GENUINE[0]:
            problem = Problem(
                message_id,
                f"message {short_id(message_id)} stored status {row.get('status')!r} after the forged callbacks; "
                f"the genuine report was {GENUINE[0]}",
                (forged,),
                row,
                "forged callbacks",
            )
            expected = "forged callbacks change nothing: the status the genuine report set stays"
            dlr_driver.record_stored_failure(ForgeryStored([problem], expected, check="forged_callback_refused"))
    dlr_driver.verify()


def _malformed_body() -> bytes:
    """The documented example cut off halfway: it takes the receiver's error path."""
    body = encode(documented_example())
    return body[: len(body) // 2]


@pytest.mark.requirement("DLR-21", requests=1)
def test_error_answers_hide_internals(dlr_driver: Driver) -> None:
    """A callback cut off halfway (its answer shows the receiver's error path), then every answer other than 200
    the run got: none shows a stack trace, an SQL error, a debug page or a server file path."""
    run = dlr_driver.run
    run.sender.deliver(_malformed_body(), label="a callback cut off halfway (malformed JSON)")
    if not run.error_answers:
        pytest.skip(
            "not checked: every answer of the run was 200, the malformed callback's included, so there was no "
            "error answer to look at"
        )
    for outcome in run.exposures:
        dlr_driver.record(outcome)
    dlr_driver.notes.append(
        f"{run.error_answers} answer{'s' if run.error_answers != 1 else ''} other than 200 looked at; "
        f"{run.exposure_count} showed the receiver's internals."
    )
    dlr_driver.verify()
