"""The faults: for each faulty receiver, how the conformance suite must catch it.

A :class:`Fault` names the receiver, the suite tests to run (a ``-k`` expression), the requirements whose checks
must fail -- exactly those, nothing else -- the check that raises the failures, the words the failure messages
must contain, and suite tests that must fail or must still pass (the correct parts of the receiver).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.requirements import level_of
from tests.support import faults as r
from tests.support.runs import SuiteRun

# the deterministic tests; the 200-request stream only where a fault needs it. The generated test is left out by its
# requirement: a -k that names "generated" has the run start the payload generator ahead (a process) for nothing.
NOT_GENERATED = "not DLR-10 and not stream"
EVERY_REQUIREMENT_BUT_GENERATED = frozenset(f"DLR-{i:02d}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 17, 18))

STATUSES = ("ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD")
RETRY = "test_retry_of_a_stored_callback_answered_200"
CONCURRENT = "test_concurrent_duplicates_answered_200"
OUT_OF_ORDER = "test_final_status_before_intermediate_answered_200"
BURST = "test_burst_answered_200_within_deadline"
STREAM = "test_sustained_stream_answered_200"
GENERATED = "test_generated_payloads_answered_200"
DUPLICATES = "retry or duplicates or final_status"


@dataclass(frozen=True)
class Fault:
    """A faulty receiver and how the suite must catch it."""

    id: str
    make: Callable[[], Any]
    requirements: frozenset[str]
    says: tuple[str, ...]
    check: str = "status_code_is_200"
    fails: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()
    select: str = NOT_GENERATED
    args: tuple[str, ...] = ()
    alone: bool = False  # the receiver's fault depends on timing: run it while nothing else runs

    def param(self) -> Any:
        """This fault as a pytest parameter."""
        return pytest.param(self, id=self.id)


def _reqs(*ids: int) -> frozenset[str]:
    return frozenset(f"DLR-{i:02d}" for i in ids)


FAULTS: tuple[Fault, ...] = (
    # -- the answer's status, whatever the callback
    Fault(
        "answers-202",
        lambda: r.success_other_than_200(202),
        EVERY_REQUIREMENT_BUT_GENERATED,
        (
            "Answered with a success status other than 200",
            "Received: 202 Accepted",
            "documented example",
            "many platforms accept any 2xx; this one does not",
        ),
    ),
    Fault(
        "answers-201",
        lambda: r.success_other_than_200(201),
        _reqs(2, 11),
        ("Answered with a success status other than 200", "Received: 201 Created"),
        select="documented-example or burst",
    ),
    Fault(
        "answers-204",
        lambda: r.success_other_than_200(204),
        _reqs(2, 11),
        ("Answered with a success status other than 200", "Received: 204 No Content"),
        select="documented-example or burst",
    ),
    Fault(
        "redirects",
        lambda: r.RedirectsToTrailingSlash,
        _reqs(1, 2),
        (
            "Answered with a redirect, which the platform does not follow",
            "Received: 301 Moved Permanently to http",
            "/dlr/",
        ),
        select="documented-example or minimal",
    ),
    Fault(
        "403-for-everything",
        lambda: r.CsrfProtected,
        _reqs(1, 2),
        ("Rejected the callback with a client error", "Received: 403 Forbidden", "CSRF verification failed"),
        select="documented-example or minimal",
    ),
    Fault(
        "415-for-charset",
        r.StrictContentType,
        _reqs(1, 2),
        (
            "Rejected the callback's content type (415)",
            "Received: 415 Unsupported Media Type",
            "application/json; charset=utf-8",
        ),
        select="documented-example or minimal",
    ),
    Fault(
        "500-for-everything",
        r.ViewReturnsNothing,
        EVERY_REQUIREMENT_BUT_GENERATED,
        ("Failed with a server error", "Received: 500 Internal Server Error"),
    ),
    # -- optional fields, the sender
    Fault(
        "crashes-on-empty-client_job_id",
        r.ShardsByClientJobId,
        _reqs(2, 3),
        ("Failed with a server error", "client_job_id empty", "documented example"),
        fails=("client_job_id-empty", "documented-example"),
        passes=("client_job_id-absent", "client_job_id-of-255-characters", "minimal-valid-callback", RETRY, BURST),
    ),
    Fault(
        "keyerror-on-absent-client_job_id",
        r.RequiresClientJobId,
        _reqs(1, 3),
        ("Failed with a server error", "client_job_id absent", "minimal valid callback"),
        fails=("client_job_id-absent", "minimal-valid-callback"),
        passes=("client_job_id-empty", "documented-example", *(f"status-{s}" for s in STATUSES), RETRY, BURST),
    ),
    Fault(
        "keyerror-on-absent-client_message_id",
        r.RequiresClientMessageId,
        _reqs(1, 3),
        ("Failed with a server error", "client_message_id absent"),
        fails=("client_message_id-absent", "minimal-valid-callback"),
        passes=("client_job_id-absent", "documented-example", "three-records"),
    ),
    Fault(
        "requires-from",
        r.RequiresFrom,
        _reqs(2, 3),
        ("Failed with a server error", "sender as sms_from only", "sender as sms_from and viber_from"),
        fails=(
            "sender-as-sms_from-and-viber_from",
            "sender-as-sms_from-only",
            "empty-sms_from-with-viber_from",
            "empty-sender-strings",
            "documented-example",
        ),
        passes=("sender-as-from", "sender-as-numeric-from", "minimal-valid-callback", RETRY),
    ),
    Fault(
        "fails-on-empty-sender-strings",
        r.FailsOnEmptySender,
        _reqs(3),
        ("Failed with a server error", "empty sender strings"),
        fails=("empty-sender-strings",),
        passes=("empty-sms_from-with-viber_from", "sender-as-sms_from-and-viber_from", "documented-example"),
    ),
    # -- statuses and types
    Fault(
        "guessed-status-names",
        r.GuessedStatusNames,
        EVERY_REQUIREMENT_BUT_GENERATED,
        ("Failed with a server error", "status DELIVRD", "status ENROUTE"),
        fails=tuple(f"status-{s}" for s in STATUSES if s != "EXPIRED"),
        passes=("status-EXPIRED",),
    ),
    Fault(
        "smpp-statuses-only",
        r.SmppStatusesOnly,
        _reqs(4),
        (
            "Rejected the callback with a client error",
            "Received: 422",
            "status SEEN",
            "unknown status X_FUTURE_STATUS_1",
            "unknown status 'SEEN'",
        ),
        fails=(
            "status-SEEN",
            "status-SCHEDLD",
            "status-SKIPPED",
            "unknown-status-READ",
            "unknown-status-CLICKED",
            "unknown-status-X_FUTURE_STATUS_1",
            "unknown-status-of-32-characters",
        ),
        # its failure is recorded under DLR-04, by its twins: DLR-04 fails, the test passes and says so
        passes=(*(f"status-{s}" for s in STATUSES), "every-known-status-on-every-known-type"),
    ),
    Fault(
        "known-types-only",
        r.KnownTypesOnly,
        _reqs(5, 18),
        (
            "Rejected the callback with a client error",
            "Received: 422",
            "type INTERNAL",
            "unknown type RCS",
        ),
        fails=(
            "type-IM_VIBER",
            "type-INTERNAL",
            "every-known-status-on-every-known-type",  # its failure recorded under DLR-05, by its twins
            "unknown-type-RCS",
            "unknown-type-of-32-characters",
        ),
        passes=("type-SMS", "type-VIBER", "empty-sms_from-with-viber_from"),
    ),
    Fault(
        "unknown-types-refused",
        r.DocumentedTypesOnly,
        _reqs(18),
        ("Rejected the callback with a client error", "Received: 422", "unknown type RCS"),
        fails=("unknown-type-RCS", "unknown-type-of-32-characters"),
        passes=("type-SMS", "type-VIBER", "type-IM_VIBER", "type-INTERNAL"),
        select="type",
    ),
    # -- strict models
    Fault(
        "forbids-extra-top-level-fields",
        r.ForbidsExtraTopLevelFields,
        _reqs(6),
        ("Received: 422", "unknown top-level field", "extra fields not permitted"),
        fails=("unknown-top-level-field",),
        passes=("unknown-record-field", "documented-example"),
    ),
    Fault(
        "forbids-extra-record-fields",
        r.ForbidsExtraRecordFields,
        _reqs(6),
        ("Received: 422", "unknown record field", "extra fields not permitted"),
        fails=("unknown-record-field", "unknown-record-field-holding-a-list"),
        passes=("unknown-top-level-field", "documented-example"),
    ),
    # -- batches
    Fault(
        "handles-one-record-only",
        r.OneRecordOnly,
        _reqs(7),
        ("Failed with a server error", "three records"),
        fails=(
            "three-records",
            "status-progression-of-one-message-in-one-callback",
            "large-batch-of-150-records",
            "batch-of-1000-records",
        ),
        # recorded under DLR-07 (its batch twin is refused too): DLR-07 fails, the test passes and says so
        passes=("documented-example", "minimal-valid-callback", "every-known-status-on-every-known-type"),
    ),
    Fault(
        "unique-message_id-within-a-callback",
        r.OneReportPerMessagePerCallback,
        _reqs(7),
        ("Failed with a server error", "status progression of one message in one callback"),
        fails=("status-progression-of-one-message-in-one-callback",),
        passes=("three-records", "large-batch-of-150-records", RETRY, OUT_OF_ORDER),
    ),
    Fault(
        "413-over-50-records",
        r.BatchLimit,
        _reqs(7),
        (
            "Rejected the callback as too large (413)",
            "Received: 413",
            "large batch of 150 records",
            "no maximum is documented",
        ),
        fails=("large-batch-of-150-records", "batch-of-1000-records"),
        passes=("three-records",),
    ),
    # -- value ranges
    Fault(
        "32-bit-timestamp",
        r.Int32Timestamp,
        _reqs(2, 8, 17),
        ("Failed with a server error", "timestamps in milliseconds and microseconds past 32 bits"),
        fails=(
            "timestamps-in-milliseconds-and-microseconds-past-32-bits",
            "timestamps-at-the-64-bit-maximum",
            "documented-example",
        ),
        passes=("timestamp-zero", "minimal-valid-callback", RETRY),
    ),
    Fault(
        "error_code-on-DELIVRD-is-an-error",
        r.ErrorCodeMeansFailure,
        _reqs(2, 8),
        ("Rejected the callback with a client error", "Received: 400 Bad Request", "error_code 943 on DELIVRD"),
        fails=(
            "error_code-943-on-DELIVRD",
            "error_code-32767-on-DELIVRD",
            "error_code--32768-on-DELIVRD",
            "error_code-1-on-DELIVRD",
            "documented-example",
        ),
        passes=("three-records", "status-UNDELIV"),
    ),
    Fault(
        "rejects-to-of-15-digits",
        lambda: r.phone_number_pattern(r"[1-9][0-9]{6,13}", "at most 14 digits")(),
        _reqs(8),
        ("Received: 422", "to of 15 digits"),
        fails=("to-of-15-digits",),
        passes=("to-of-7-digits",),
    ),
    Fault(
        "rejects-to-of-7-digits",
        lambda: r.phone_number_pattern(r"[1-9][0-9]{7,14}", "at least 8 digits")(),
        _reqs(8),
        ("Received: 422", "to of 7 digits"),
        fails=("to-of-7-digits",),
        passes=("to-of-15-digits",),
    ),
    # -- duplicates and order
    Fault(
        "unique-constraint-500-on-retry",
        r.UniqueConstraint,
        _reqs(9),
        ("Failed with a server error", "copy 2 of 4 (sequential retry)", "Not idempotent: copy 1 was answered 200"),
        fails=(RETRY, CONCURRENT),
        passes=(OUT_OF_ORDER, "status-progression-of-one-message-in-one-callback"),
    ),
    Fault(
        "unique-constraint-409-on-retry",
        lambda: r.UniqueConstraint(on_duplicate=409),
        _reqs(9),
        (
            "Rejected the callback as a conflict (409)",
            "Received: 409 Conflict",
            "copy 2 of 4 (sequential retry)",
            "store reports idempotently",
        ),
        fails=(RETRY, CONCURRENT),
        passes=(OUT_OF_ORDER,),
        select=DUPLICATES,
    ),
    Fault(
        "race-on-concurrent-duplicates",
        r.RacyDuplicateCheck,
        _reqs(9),
        ("Failed with a server error", "(concurrent)", "the duplicate check races with the insert"),
        fails=(CONCURRENT,),
        passes=(RETRY, OUT_OF_ORDER),
        select=DUPLICATES,
        alone=True,
    ),
    Fault(
        "409-on-out-of-order-status",
        r.RejectsStatusRegression,
        _reqs(9),
        (
            "Received: 409 Conflict",
            "then the intermediate status ENROUTE for the same message",
            "Out of order: DELIVRD was answered 200",
        ),
        fails=(OUT_OF_ORDER,),
        passes=(RETRY, CONCURRENT, "status-progression-of-one-message-in-one-callback"),
    ),
    # -- capacity and speed
    Fault(
        "429-over-10-requests-in-5-s",
        r.RateLimited,
        _reqs(11),
        (
            "Rate-limited the callback (429)",
            "Received: 429 Too Many Requests",
            "burst request",
            "Throttled: of the 20 callbacks sent at once, 10 were answered 429 Too Many Requests",
        ),
        fails=(BURST,),
        select="burst",
        alone=True,
    ),
    Fault(
        "429-over-120-requests-a-minute",
        lambda: r.RateLimited(limit=120, window=60),
        _reqs(11),
        (
            "Rate-limited the callback (429)",
            "Received: 429 Too Many Requests",
            "stream request",
            "callbacks sent 4 at a time",
        ),
        fails=(STREAM,),
        passes=(BURST,),
        select="capacity",
        alone=True,
    ),
    Fault(
        "503-over-3-concurrent-requests",
        r.ConcurrencyLimited,
        _reqs(11),
        (
            "Failed with a server error",
            "Received: 503 Service Unavailable",
            "burst request",
            "were answered 503 Service Unavailable",
        ),
        fails=(BURST,),
        select="burst",
        alone=True,
    ),
    Fault(
        "slower-than-the-timeout",
        lambda: r.SlowOn(3.0),
        _reqs(1, 2),
        ("No complete answer within the deadline", "within the 1 s deadline"),
        check="transport_succeeds",
        fails=("documented-example", "minimal-valid-callback"),
        select="documented-example or minimal",
        args=("--timeout", "1"),
        alone=True,
    ),
    # -- faults the generated check must catch on its own, showing a shrunk minimal failing payload; a full run,
    # so the deterministic case that also catches each is seen to fail too (seeds chosen for short shrinks)
    Fault(
        "non-ascii-anywhere",
        r.AsciiOnly,
        _reqs(8, 10),
        ("Failed with a server error", "Minimal failing payload", "unicode text in ids and sender"),
        fails=("unicode-text-in-ids-and-sender", GENERATED),
        select="",
        args=("--examples", "30", "--seed", "1"),
    ),
    Fault(
        "type-longer-than-8",
        r.ShortTypeColumn,
        _reqs(18),  # the generated payload that fails holds an unknown type: judged like the case, DLR-18 (SHOULD)
        ("Failed with a server error", "Minimal failing payload", "unknown type of 32 characters"),
        # the generated test passes: what it found is recorded under DLR-18, which fails, and it says so
        fails=("unknown-type-of-32-characters",),
        passes=("type-IM_VIBER", "unknown-type-RCS", GENERATED),
        select="",
        args=("--examples", "100", "--seed", "20251127"),
    ),
    Fault(
        "list-valued-extra-record-field",
        r.ExtrasAsColumns,
        _reqs(6),  # the generated payload that fails holds an unknown field: judged like the case, DLR-06
        ("Failed with a server error", "Minimal failing payload", "unknown record field holding a list"),
        fails=("unknown-record-field-holding-a-list",),
        passes=("unknown-record-field", GENERATED),  # what it found is recorded under DLR-06
        select="",
        args=("--examples", "100", "--seed", "2"),
    ),
)

BY_ID = {fault.id: fault for fault in FAULTS}


def expected_verdict(fault: Fault) -> tuple[int, str]:
    """A fault that fails a MUST requirement makes the run not conformant (exit 1); one that fails only SHOULD
    requirements leaves it conformant with warnings (exit 0): a failed recommendation."""
    if any(level_of(r) == "MUST" for r in fault.requirements):
        return 1, "not_conformant"
    return 0, "conformant_with_warnings"


def assert_caught(fault: Fault, reports: SuiteRun) -> None:
    """The run caught the fault, with exactly its requirements, from its check, saying what it must say; the verdict
    weighs it at the level of the requirements it fails."""
    where = f"\n--- output (exit code {reports.code}) ---\n{reports.output[-4000:]}"
    assert (reports.code, reports.verdict) == expected_verdict(fault), where
    assert reports.failing_requirements == fault.requirements, where
    assert reports.checks == {fault.check}, where
    text = reports.failure_text()
    missing = [phrase for phrase in fault.says if phrase not in text]
    assert not missing, f"the failure messages do not say {missing}:\n{text[:4000]}"
    assert set(fault.fails) <= reports.failed(), f"not failed: {set(fault.fails) - reports.failed()}"
    assert set(fault.passes) <= reports.passed(), f"not passed: {set(fault.passes) - reports.passed()}"
    if fault.id in MINIMAL:
        how, payload = reports.minimal_payload()
        assert how.startswith("shrunk"), f"the failing payload was not shrunk to the end: {how}"
        assert "minimal failing payload (shrunk)" in {f["case"] for f in reports.failures}
        MINIMAL[fault.id](payload)


def _one_record(payload: dict[str, Any]) -> dict[str, Any]:
    assert len(payload["data"]) == 1, f"not minimal: {len(payload['data'])} records"
    record: dict[str, Any] = payload["data"][0]
    return record


def _one_non_ascii_character(payload: dict[str, Any]) -> None:
    _one_record(payload)
    text = json.dumps(payload, ensure_ascii=False)
    assert len([c for c in text if not c.isascii()]) == 1, f"not minimal: {text!r}"


def _type_of_9_characters(payload: dict[str, Any]) -> None:
    assert len(_one_record(payload)["type"]) == 9, f"not minimal: {payload!r}"


def _an_empty_list_field(payload: dict[str, Any]) -> None:
    record = _one_record(payload)
    extras = {k: v for k, v in record.items() if k not in r.RECORD}
    assert list(extras.values()) == [[]], f"not minimal: {extras!r}"


MINIMAL: dict[str, Callable[[dict[str, Any]], None]] = {
    "non-ascii-anywhere": _one_non_ascii_character,
    "type-longer-than-8": _type_of_9_characters,
    "list-valued-extra-record-field": _an_empty_list_field,
}
"""For each generated-only fault: what its shrunk minimal failing payload must look like."""
