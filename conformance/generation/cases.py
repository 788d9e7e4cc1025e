"""Deliberate edge cases: named payloads, each aimed at one way receivers go wrong.

Every case is a valid callback (``tests/faults/test_cases.py`` proves it against the contract), built from a
plain callback (:func:`callback`) so that exactly one aspect differs from a payload every receiver should
already accept. The other scenarios (retries, bursts) deliver plain callbacks too, so that a receiver that
fails on one aspect fails the case for that aspect, not every scenario that happens to carry it.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from conformance.contract import schema as contract

__all__ = ["CASES", "Case", "base_record", "callback", "documented_example", "for_requirement", "fresh"]


@dataclass(frozen=True)
class Case:
    """A named payload for one requirement."""

    requirement: str
    name: str
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        """The pytest parameter id."""
        return self.name.replace(" ", "-")


def documented_example() -> dict[str, Any]:
    """The platform's documented example, its JSON error fixed and the masked digits of ``to`` filled in."""
    return {
        "api_job_id": "0c6ccf37-dd15-49ff-a12f-ffad8f2655a6",
        "client_job_id": "",
        "data": [
            {
                "type": "SMS",
                "message_id": "14466445287300014003",
                "status": "DELIVRD",
                "timestamp": 1443165174145,
                "micro_timestamp": 1443165174145000,
                "to": "35699000000",
                "sms_from": "Fortytwo",
                "viber_from": "",
                "client_message_id": "reference1",
                "error_code": 943,
            }
        ],
    }


def base_record(**changes: Any) -> dict[str, Any]:
    """A plain SMS record with ``from``; keyword arguments replace fields, ``None`` removes one."""
    record: dict[str, Any] = {
        "type": "SMS",
        "message_id": "14466445287300014003",
        "status": "DELIVRD",
        "timestamp": 1443165174,
        "micro_timestamp": 1443165174145,
        "to": "35699000000",
        "from": "Fortytwo",
        "client_message_id": "reference1",
        "error_code": 0,
    }
    for key, value in changes.items():
        key = key.removesuffix("_")  # from_ -> from
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def callback(*records: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A plain callback of ``records`` (one :func:`base_record` if none); keyword arguments replace top-level
    fields, ``None`` removes one."""
    body: dict[str, Any] = {"api_job_id": "0c6ccf37-dd15-49ff-a12f-ffad8f2655a6", "client_job_id": "job-1"}
    body.update({k: v for k, v in top.items() if v is not None})
    for key in [k for k, v in top.items() if v is None]:
        body.pop(key, None)
    body["data"] = list(records) or [base_record()]
    return body


def fresh(payload: dict[str, Any], run_id: str) -> dict[str, Any]:
    """A copy of ``payload`` with a new api_job_id and message ids, tagged with the run id for later purging.

    Each case gets its own ids so that the idempotency of the receiver (same api_job_id, message_id and status
    is the same report) never hides a case behind an earlier one.
    """
    body = copy.deepcopy(payload)
    body["api_job_id"] = f"dlrc-{run_id}-{uuid.uuid4()}"
    suffix = uuid.uuid4().int % 10**12
    ids: dict[str, str] = {}
    for record in body.get("data", []):
        original = str(record.get("message_id", ""))
        ids.setdefault(original, f"{original[:8]}{suffix + len(ids):012d}")
        record["message_id"] = ids[original]
    return body


def _cases() -> list[Case]:
    cases: list[Case] = [
        Case("DLR-01", "minimal valid callback", callback(base_record(client_message_id=None), client_job_id=None))
    ]
    cases.append(Case("DLR-02", "documented example", documented_example()))
    add = cases.append
    # DLR-03 optional fields and the sender's two forms
    add(Case("DLR-03", "client_job_id empty", callback(client_job_id="")))
    add(Case("DLR-03", "client_job_id absent", callback(client_job_id=None)))
    add(Case("DLR-03", "client_job_id of 255 characters", callback(client_job_id="J" * 255)))
    add(Case("DLR-03", "client_message_id absent", callback(base_record(client_message_id=None))))
    add(Case("DLR-03", "sender as from", callback(base_record(from_="Fortytwo"))))
    add(Case("DLR-03", "sender as numeric from", callback(base_record(from_="123456789012345"))))
    add(
        Case(
            "DLR-03",
            "sender as sms_from and viber_from",
            callback(base_record(from_=None, sms_from="Fortytwo", viber_from="")),
        )
    )
    add(Case("DLR-03", "sender as sms_from only", callback(base_record(from_=None, sms_from="Fortytwo"))))
    add(
        Case(
            "DLR-03",
            "empty sms_from with viber_from",
            callback(base_record(from_=None, type="VIBER", sms_from="", viber_from="Fortytwo")),
        )
    )
    add(Case("DLR-03", "empty sender strings", callback(base_record(from_=None, sms_from="", viber_from=""))))
    # DLR-04 statuses
    for status in contract.KNOWN_STATUSES:
        add(Case("DLR-04", f"status {status}", callback(base_record(status=status))))
    for status in ("READ", "CLICKED", "X_FUTURE_STATUS_1"):
        add(Case("DLR-04", f"unknown status {status}", callback(base_record(status=status))))
    # longer than any known status: a column sized for the known ones overflows
    add(Case("DLR-04", "unknown status of 32 characters", callback(base_record(status="X_FUTURE_STATUS_" + "S" * 16))))
    # DLR-05 types
    for kind in contract.KNOWN_TYPES:
        add(Case("DLR-05", f"type {kind}", callback(base_record(type=kind))))
    # DLR-18 types never seen before
    add(Case("DLR-18", "unknown type RCS", callback(base_record(type="RCS"))))
    add(Case("DLR-18", "unknown type of 32 characters", callback(base_record(type="X_FUTURE_NETWORK_" + "T" * 15))))
    # DLR-06 unknown fields
    add(Case("DLR-06", "unknown top-level field", callback(x_new_field={"nested": [1, "two", None]})))
    add(Case("DLR-06", "unknown record field", callback(base_record(x_price=0.0045, x_network="MT-GO"))))
    add(Case("DLR-06", "unknown record field holding a list", callback(base_record(x_parts=["p1", "p2"]))))
    # DLR-07 batches
    add(
        Case(
            "DLR-07",
            "three records",
            callback(
                base_record(message_id="14466445287300014003"),
                base_record(message_id="14466445287300014004", to="35699000001"),
                base_record(message_id="14466445287300014005", status="UNDELIV", error_code=1),
            ),
        )
    )
    add(
        Case(
            "DLR-07",
            "status progression of one message in one callback",
            callback(base_record(status="ENROUTE", timestamp=1443165170), base_record(status="DELIVRD")),
        )
    )
    add(
        Case(
            "DLR-07",
            "large batch of 150 records",
            callback(*(base_record(message_id=f"1446644528730{i:07d}", to=f"3569900{i:04d}") for i in range(150))),
        )
    )
    # no maximum is documented; about 190 KB, past the 100 KB body limit some web frameworks default to
    add(
        Case(
            "DLR-07",
            "batch of 1000 records",
            callback(*(base_record(message_id=f"1446644528731{i:07d}", to=f"356991{i:05d}") for i in range(1000))),
        )
    )
    # DLR-08 value ranges
    add(
        Case(
            "DLR-08",
            "timestamps in milliseconds and microseconds past 32 bits",
            callback(base_record(timestamp=1443165174145, micro_timestamp=1443165174145000)),
        )
    )
    for code in (943, 32767, -32768, 1):
        add(Case("DLR-08", f"error_code {code} on DELIVRD", callback(base_record(error_code=code))))
    add(Case("DLR-08", "to of 7 digits", callback(base_record(to="3569900"))))
    add(Case("DLR-08", "to of 15 digits", callback(base_record(to="356990000000000"))))
    add(
        Case(
            "DLR-08",
            "unicode text in ids and sender",
            callback(base_record(client_message_id="réf-✓-😀", from_="Zürich ✓"), client_job_id="job-ø-测试"),
        )
    )
    # DLR-17 adversarial values: allowed by the schema, never sent by the platform as far as anyone knows
    add(
        Case(
            "DLR-17",
            "timestamps at the 64-bit maximum",
            callback(base_record(timestamp=2**63 - 1, micro_timestamp=2**63 - 1)),
        )
    )
    add(Case("DLR-17", "timestamp zero", callback(base_record(timestamp=0, micro_timestamp=0))))
    # a PostgreSQL text column cannot hold the character with code zero
    add(Case("DLR-17", "NUL character in client_message_id", callback(base_record(client_message_id="ref\x001"))))
    add(
        Case(
            "DLR-17",
            "control characters in text fields",
            callback(base_record(from_="Forty\ttwo", viber_from="line\r\nbreak\x1b[0m\x7f"), client_job_id="job\x01"),
        )
    )
    return cases


CASES: tuple[Case, ...] = tuple(_cases())


def for_requirement(requirement_id: str) -> list[Case]:
    """The edge cases of one requirement."""
    return [case for case in CASES if case.requirement == requirement_id]
