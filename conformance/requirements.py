"""The requirement catalogue: what a receiver must (or should) do, as data.

Each requirement has an ID, a title, a level, the documentation sentence it rests on (quoted; anything that is
an inference says so), and the names of the checks that test it. Suite tests are marked with a requirement ID;
reports group by it; ``--list-checks`` prints it; ``--requirement ID`` and ``-k ID`` select by it.

Levels weigh differently (RFC 2119): a failed **MUST** loses delivery reports with the platform as it is
documented today and makes a run ``not_conformant``; a failed **SHOULD** is a recommendation a receiver can miss
and still work with the platform today, so it gives ``conformant_with_warnings`` unless the run is ``--strict``.
A failure weighs at the level of the requirement it is recorded under, whatever test recorded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CATALOGUE", "LEVELS", "Level", "Requirement", "by_id", "level_of"]

Level = Literal["MUST", "SHOULD"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD")


@dataclass(frozen=True)
class Requirement:
    """One requirement of the callback contract."""

    id: str
    title: str
    level: Level
    source: str
    checks: tuple[str, ...]
    # checks over a whole scenario and the receiver's stored state (checks.SCENARIO_CHECKS)
    scenario_checks: tuple[str, ...] = ()


_ANSWER = ("transport_succeeds", "status_code_is_200", "body_within_cap", "latency_within_budget")

CATALOGUE: tuple[Requirement, ...] = (
    Requirement(
        "DLR-01",
        "Every valid callback is answered with exactly 200 OK",
        "MUST",
        "When a client receives a callback, the Fortytwo API server expects to receive an HTTP 200 OK. "
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried.",
        _ANSWER,
    ),
    Requirement(
        "DLR-02",
        "The documented example callback is accepted",
        "MUST",
        "An HTTP request is sent to the specified callback_url with the SMS delivery details in the JSON body, "
        "ex: {...}",
        _ANSWER,
    ),
    Requirement(
        "DLR-03",
        "Optional fields may be empty or absent; the sender comes in either form",
        "MUST",
        "client_job_id: If this field was not supplied, it will not be returned here either. "
        '(The documented example sends client_job_id "", sms_from and viber_from instead of from.)',
        _ANSWER,
    ),
    Requirement(
        "DLR-04",
        "Every status is accepted: SMPP states, IM statuses and statuses never seen before",
        "MUST",
        "In case of SMS reports, these match the worldwide SMPP v3.4 standard. [...] Statuses for IM extend, "
        "not replace, the SMPP standard.",
        _ANSWER,
    ),
    Requirement(
        "DLR-05",
        "Every network type the platform sends is accepted: SMS, VIBER, IM_VIBER, INTERNAL",
        "MUST",
        "type | Enum | N | The type of network through which the delivery report originated from. (The values are "
        "not listed on the page; SMS, VIBER, IM_VIBER and INTERNAL are seen in the platform's SDK and pages: a "
        "receiver refusing one loses those reports just as if it refused a status.)",
        _ANSWER,
    ),
    Requirement(
        "DLR-18",
        "Network types never seen before are accepted",
        "SHOULD",
        "Inference, not stated in the documentation: type is an Enum whose list is not published, and the status "
        'list "extend[s], not replace[s]" for new networks; a receiver should not refuse a type it does not know.',
        _ANSWER,
    ),
    Requirement(
        "DLR-06",
        "Unknown extra fields are tolerated at the top level and inside records",
        "SHOULD",
        "Inference, not stated in the documentation: the platform adds fields (the documented example already "
        "carries sms_from and viber_from, which the field table does not list).",
        _ANSWER,
    ),
    Requirement(
        "DLR-07",
        "Batches: several records in one callback, also for one message, and large batches",
        "MUST",
        "data: This contains at least 1 record.",
        _ANSWER,
    ),
    Requirement(
        "DLR-08",
        "Values over their whole documented range",
        "MUST",
        "timestamp | long; micro_timestamp | long; error_code | short: Error code, else 0; to: digits between "
        "7-15 digits long. (The example holds milliseconds and microseconds, past 32 bits, and error_code 943 "
        "on a DELIVRD record.)",
        _ANSWER,
    ),
    Requirement(
        "DLR-09",
        "Duplicate deliveries (retries) and out-of-order reports are answered 200",
        "MUST",
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried "
        "again. After three failed attempts, with an interval of 5 minutes between them, the callback is discarded.",
        _ANSWER,
    ),
    Requirement(
        "DLR-10",
        "Generated callbacks: every payload the schema allows is answered 200",
        "MUST",
        "The endpoint, on the client side, must therefore fully support this kind of request and respond accordingly.",
        (*_ANSWER, "payload_matches_contract"),
    ),
    Requirement(
        "DLR-11",
        "Capacity: a burst of concurrent callbacks and a sustained stream are answered 200, unthrottled",
        "SHOULD",
        "Inference, not stated in the documentation: several delivery reports reach a receiver at once, and many "
        "in a row; the platform does not slow down for a throttled (429) or slow answer: \"If the client's server "
        "[...] does not return a 200 OK, the callback is queued to be retried again. After three failed attempts "
        '[...] the callback is discarded."',
        _ANSWER,
    ),
    Requirement(
        "DLR-12",
        "HTTPS: the receiver's certificate validates",
        "MUST",
        "However, if HTTPS validation fails, the callback is treated as failed.",
        ("certificate_validates",),
    ),
    # issue 8: what the receiver stored, read back with --state-cmd (not checked without a state reader)
    Requirement(
        "DLR-13",
        "Nothing acknowledged is lost: every report answered 200 is stored",
        "MUST",
        "When a client receives a callback, the Fortytwo API server expects to receive an HTTP 200 OK. (A report "
        "answered 200 is never sent again: if the receiver did not store it, it is lost for good.)",
        _ANSWER,
        ("acknowledged_reports_are_stored",),
    ),
    Requirement(
        "DLR-14",
        "Retries are processed once: copies of a report change nothing",
        "MUST",
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried "
        "again. (A callback counted as failed may have been processed: its retry must not be processed again.)",
        _ANSWER,
        ("retries_processed_once",),
    ),
    Requirement(
        "DLR-15",
        "The newest status wins, whatever order the reports arrive in",
        "MUST",
        "timestamp: UNIX timestamp (i.e. number of seconds from 1-Jan-1970 in UTC) when the delivery was "
        "completed. (Retries and parallel deliveries make reports arrive out of order; the newest is the status.)",
        _ANSWER,
        ("newest_status_wins",),
    ),
    Requirement(
        "DLR-16",
        "Values are stored intact: 64-bit timestamps, short error codes, unicode, 255-character job ids",
        "MUST",
        "timestamp | long; micro_timestamp | long; error_code | short; client_job_id: The Job ID supplied by the "
        "client during the original request. (What is stored must read back exactly as it was sent.)",
        _ANSWER,
        ("values_stored_intact",),
    ),
    Requirement(
        "DLR-17",
        "Adversarial values the schema allows are accepted: control characters, NUL, extreme boundaries",
        "SHOULD",
        "Inference, not stated in the documentation: the fields are typed String and long without excluding any "
        "character or value, but nothing suggests the platform sends control characters, NUL or timestamps far "
        "outside this century and the next; a receiver should still not lose a report over one.",
        _ANSWER,
    ),
)


def by_id(requirement_id: str) -> Requirement:
    """The requirement with this ID; ``KeyError`` naming the known IDs if there is none."""
    for requirement in CATALOGUE:
        if requirement.id == requirement_id:
            return requirement
    raise KeyError(f"unknown requirement {requirement_id!r}; known: {', '.join(r.id for r in CATALOGUE)}")


def level_of(requirement_id: str) -> Level:
    """The level of a requirement; an unknown ID (a test error, say) weighs as MUST: never a pass by default."""
    for requirement in CATALOGUE:
        if requirement.id == requirement_id:
            return requirement.level
    return "MUST"
