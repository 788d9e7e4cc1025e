"""Deliberate edge cases: named payloads, each aimed at one way receivers go wrong.

Every case is a valid callback (``tests/faults/test_cases.py`` proves it against the contract), built from a
plain callback (:func:`callback`) so that exactly one aspect differs from a payload every receiver should
already accept. The other scenarios (retries, bursts) deliver plain callbacks too, so that a receiver that
fails on one aspect fails the case for that aspect, not every scenario that happens to carry it.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from conformance.contract import schema as contract
from conformance.generation.aspects import HOSTILE, HOSTILE_CHARACTERS, Ids
from conformance.requirements import CATALOGUE

__all__ = [
    "CASES",
    "Case",
    "base_record",
    "callback",
    "documented_example",
    "for_requirement",
    "fresh",
    "scenario_ids",
]


@dataclass(frozen=True)
class Case:
    """A named payload for one requirement."""

    requirement: str
    name: str
    payload: dict[str, Any]
    as_documented: bool = False  # delivered with its documented ids (unless the run keeps state: then run-tagged)
    # when the payload mixes what several requirements judge: (requirement, the payload with only its part), in the
    # order blame is given; a refused payload's failure goes under the first whose twin is refused too
    twins: tuple[tuple[str, dict[str, Any]], ...] = ()

    @property
    def id(self) -> str:
        """The pytest parameter id."""
        return self.name.replace(" ", "-")


def documented_example() -> dict[str, Any]:
    """The platform's documented example (its one copy: :func:`conformance.contract.documented_example`)."""
    return contract.documented_example()


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


_SCENARIO_STREAM = 1  # the main process's id stream (the generator worker counts in stream 0)
_scenario_ids: dict[str, Ids] = {}
_scenario_lock = threading.Lock()


def scenario_ids(run_id: str) -> Ids:
    """The run's id source for the scenarios of the main process (one per run id, thread-safe)."""
    with _scenario_lock:
        if run_id not in _scenario_ids:
            _scenario_ids[run_id] = Ids(run_id, stream=_SCENARIO_STREAM)
        return _scenario_ids[run_id]


def fresh(payload: dict[str, Any], run_id: str) -> dict[str, Any]:
    """A copy of ``payload`` with a new api_job_id and message ids, run-tagged (``dlrc-<run id>-<UUID>``) like every
    id the tool makes, so that what a run stored can be found and purged.

    Each case gets its own ids so that the idempotency of the receiver (same api_job_id, message_id and status
    is the same report) never hides a case behind an earlier one; records of one message keep sharing an id, and
    hostile text in an id (a case's point) is kept after the fresh id.
    """
    ids = scenario_ids(run_id)
    body = copy.deepcopy(payload)
    body["api_job_id"] = ids.job_id() + _hostile_tail(str(body.get("api_job_id", "")))
    renamed: dict[str, str] = {}
    for record in body.get("data", []):
        original = str(record.get("message_id", ""))
        if original not in renamed:
            renamed[original] = ids.message_id() + _hostile_tail(original)
        record["message_id"] = renamed[original]
    return body


def _hostile_tail(value: str) -> str:
    """The hostile text an id carries (from its first hostile character on), kept after a fresh id."""
    at = next((i for i, c in enumerate(value) if c in HOSTILE_CHARACTERS), len(value))
    return value[at:]


_R = {r.key: r.id for r in CATALOGUE}  # each case names its requirement by key


def _cases() -> list[Case]:
    cases: list[Case] = [
        Case(
            _R["answered_200"],
            "minimal valid callback",
            callback(base_record(client_message_id=None), client_job_id=None),
        )
    ]
    cases.append(Case(_R["documented_example"], "documented example", documented_example(), as_documented=True))
    add = cases.append
    # optional fields and the sender's two forms
    add(Case(_R["optional_fields"], "client_job_id empty", callback(client_job_id="")))
    add(Case(_R["optional_fields"], "client_job_id absent", callback(client_job_id=None)))
    add(Case(_R["optional_fields"], "client_job_id of 255 characters", callback(client_job_id="J" * 255)))
    add(Case(_R["optional_fields"], "client_message_id absent", callback(base_record(client_message_id=None))))
    add(Case(_R["optional_fields"], "sender as from", callback(base_record(from_="Fortytwo"))))
    add(Case(_R["optional_fields"], "sender as numeric from", callback(base_record(from_="123456789012345"))))
    add(
        Case(
            _R["optional_fields"],
            "sender as sms_from and viber_from",
            callback(base_record(from_=None, sms_from="Fortytwo", viber_from="")),
        )
    )
    add(Case(_R["optional_fields"], "sender as sms_from only", callback(base_record(from_=None, sms_from="Fortytwo"))))
    add(
        Case(
            _R["optional_fields"],
            "empty sms_from with viber_from",
            callback(base_record(from_=None, type="VIBER", sms_from="", viber_from="Fortytwo")),
        )
    )
    add(
        Case(
            _R["optional_fields"],
            "empty sender strings",
            callback(base_record(from_=None, sms_from="", viber_from="")),
        )
    )
    # statuses
    for status in contract.KNOWN_STATUSES:
        add(Case(_R["statuses"], f"status {status}", callback(base_record(status=status))))
    for status in ("READ", "CLICKED", "X_FUTURE_STATUS_1"):
        add(Case(_R["statuses"], f"unknown status {status}", callback(base_record(status=status))))
    # longer than any known status: a column sized for the known ones overflows
    add(
        Case(
            _R["statuses"],
            "unknown status of 32 characters",
            callback(base_record(status="X_FUTURE_STATUS_" + "S" * 16)),
        )
    )
    # types
    for kind in contract.KNOWN_TYPES:
        add(Case(_R["network_types"], f"type {kind}", callback(base_record(type=kind))))
    # every known status on every known network, one record each: no status is refused on the network it comes from.
    # Refused, its twins tell what is: the batch of 44 itself (all SMS, DELIVRD), the statuses (all on SMS) or the
    # networks (all with DELIVRD)
    pairs = [(kind, status) for kind in contract.KNOWN_TYPES for status in contract.KNOWN_STATUSES]

    def pair_records(kind: str | None, status: str | None) -> dict[str, Any]:
        return callback(
            *(
                base_record(message_id=f"1446644528732{i:07d}", type=kind or k, status=status or st)
                for i, (k, st) in enumerate(pairs)
            )
        )

    add(
        Case(
            _R["network_types"],
            "every known status on every known type",
            pair_records(None, None),
            twins=(
                (_R["batches"], pair_records("SMS", "DELIVRD")),
                (_R["statuses"], pair_records("SMS", None)),
                (_R["network_types"], pair_records(None, "DELIVRD")),
            ),
        )
    )
    # types never seen before
    add(Case(_R["unknown_types"], "unknown type RCS", callback(base_record(type="RCS"))))
    add(
        Case(
            _R["unknown_types"],
            "unknown type of 32 characters",
            callback(base_record(type="X_FUTURE_NETWORK_" + "T" * 15)),
        )
    )
    # unknown fields
    add(Case(_R["extra_fields"], "unknown top-level field", callback(x_new_field={"nested": [1, "two", None]})))
    add(Case(_R["extra_fields"], "unknown record field", callback(base_record(x_price=0.0045, x_network="MT-GO"))))
    add(Case(_R["extra_fields"], "unknown record field holding a list", callback(base_record(x_parts=["p1", "p2"]))))
    # batches
    add(
        Case(
            _R["batches"],
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
            _R["batches"],
            "status progression of one message in one callback",
            callback(base_record(status="ENROUTE", timestamp=1443165170), base_record(status="DELIVRD")),
        )
    )
    add(
        Case(
            _R["batches"],
            "large batch of 150 records",
            callback(*(base_record(message_id=f"1446644528730{i:07d}", to=f"3569900{i:04d}") for i in range(150))),
        )
    )
    # no maximum is documented; about 190 KB, past the 100 KB body limit some web frameworks default to
    add(
        Case(
            _R["batches"],
            "batch of 1000 records",
            callback(*(base_record(message_id=f"1446644528731{i:07d}", to=f"356991{i:05d}") for i in range(1000))),
        )
    )
    # value ranges
    add(
        Case(
            _R["value_ranges"],
            "timestamps in milliseconds and microseconds past 32 bits",
            callback(base_record(timestamp=1443165174145, micro_timestamp=1443165174145000)),
        )
    )
    for code in (943, 32767, -32768, 1):
        add(Case(_R["value_ranges"], f"error_code {code} on DELIVRD", callback(base_record(error_code=code))))
    add(Case(_R["value_ranges"], "to of 7 digits", callback(base_record(to="3569900"))))
    add(Case(_R["value_ranges"], "to of 15 digits", callback(base_record(to="356990000000000"))))
    add(
        Case(
            _R["value_ranges"],
            "unicode text in ids and sender",
            callback(base_record(client_message_id="réf-✓-😀", from_="Zürich ✓"), client_job_id="job-ø-测试"),
        )
    )
    # adversarial values: allowed by the schema, never sent by the platform as far as anyone knows
    add(
        Case(
            _R["adversarial"],
            "timestamps at the 64-bit maximum",
            callback(base_record(timestamp=2**63 - 1, micro_timestamp=2**63 - 1)),
        )
    )
    add(Case(_R["adversarial"], "timestamp zero", callback(base_record(timestamp=0, micro_timestamp=0))))
    # a PostgreSQL text column cannot hold the character with code zero
    add(
        Case(
            _R["adversarial"],
            "NUL character in client_message_id",
            callback(base_record(client_message_id="ref\x001")),
        )
    )
    add(
        Case(
            _R["adversarial"],
            "control characters in text fields",
            callback(base_record(from_="Forty\ttwo", viber_from="line\r\nbreak\x1b[0m\x7f"), client_job_id="job\x01"),
        )
    )
    # hostile text the contract allows, in each field receivers put into SQL, HTML, shell commands or format
    # strings: a receiver that concatenates answers 500 on a quote, or stores the value mangled (the sender stays
    # `from` beside sms_from and viber_from, so that only the hostile text differs from a plain callback)
    everything = "".join(HOSTILE)
    add(
        Case(
            _R["adversarial"], "hostile text in client_message_id", callback(base_record(client_message_id=everything))
        )
    )
    add(Case(_R["adversarial"], "hostile text in client_job_id", callback(client_job_id=everything)))
    add(Case(_R["adversarial"], "hostile text in viber_from", callback(base_record(viber_from=everything))))
    add(Case(_R["adversarial"], "hostile text in from", callback(base_record(from_="' OR '1'='1"))))
    add(Case(_R["adversarial"], "hostile text in sms_from", callback(base_record(sms_from="%s%n$(id)"))))
    add(
        Case(
            _R["adversarial"],
            "hostile text in message_id",
            callback(base_record(message_id="14466445287300014003';--<script>")),
        )
    )
    add(
        Case(
            _R["adversarial"], "hostile text in api_job_id", callback(api_job_id="0c6ccf37-dd15' OR '1'='1{{7*7}}$(id)")
        )
    )
    return cases


CASES: tuple[Case, ...] = tuple(_cases())


def for_requirement(requirement_id: str) -> list[Case]:
    """The edge cases of one requirement."""
    return [case for case in CASES if case.requirement == requirement_id]
