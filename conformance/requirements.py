"""The requirement catalogue: what a receiver must (or should) do, as data.

Each requirement has an ID, a key (the name code uses for it), a title, a level, the documentation sentence it
rests on (quoted; anything that is an inference says so), the names of the checks that test it, and what the
rest of the code asks of it: what payload aspect it judges, whether it needs the state reader, whether ``load``
judges it, whether it runs first. Suite tests are marked with a requirement ID; reports group by it;
``--list-checks`` prints it; ``--requirement ID`` and ``-k ID`` select by it.

This module is the spine: requirement IDs appear here, in the suite's markers and in the tests, nowhere else.
Other code asks the catalogue (:func:`by_key`, :func:`needing_reader`, :func:`judged_by_load`, ...).

Levels weigh differently (RFC 2119): a failed **MUST** loses delivery reports with the platform as it is
documented today and makes a run ``not_conformant``; a failed **SHOULD** is a recommendation a receiver can miss
and still work with the platform today, so it gives ``conformant_with_warnings`` unless the run is ``--strict``.
A failure weighs at the level of the requirement it is recorded under, whatever test recorded it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CATALOGUE",
    "LEVELS",
    "Level",
    "Requirement",
    "by_aspect",
    "by_id",
    "by_key",
    "groups",
    "ids_text",
    "judged_by_load",
    "level_of",
    "needing_preparer",
    "needing_reader",
    "needing_status_map",
    "run_first",
    "run_last",
]

Level = Literal["MUST", "SHOULD"]
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD")


@dataclass(frozen=True)
class Requirement:
    """One requirement of the callback contract."""

    id: str
    key: str  # the name code uses for it: ids appear only in the catalogue, the suite's markers and the tests
    title: str
    level: Level
    source: str
    checks: tuple[str, ...]
    # checks over a whole scenario and the receiver's stored state (checks.stored.SCENARIO_CHECKS)
    scenario_checks: tuple[str, ...] = ()
    aspect: str = ""  # the payload aspect (generation.aspects) whose failures are recorded under it
    judged_by_load: bool = False  # ``load --state-cmd`` judges it after the load
    runs_first: bool = False  # its test runs before the others (a broken certificate explains every failure)
    runs_last: bool = False  # its test runs after every other (it judges what the whole run was answered)
    stored_state_judged: bool = True  # the stored-state checks judge its deliveries (False: values never sent)
    needs_preparer: bool = False  # judged only when a preparer creates the messages (--prepare-cmd)
    # the requirements whose stored-state checks also judge what its deliveries left in the receiver's store
    judged_also_by: tuple[str, ...] = ()
    needs_status_map: bool = False  # judged only with the receiver's status map (--status-map): else not checked

    @property
    def needs_reader(self) -> bool:
        """True when it is judged on what the receiver stored, read back with the state reader."""
        return bool(self.scenario_checks)


_ANSWER = ("transport_succeeds", "status_code_is_200", "body_within_cap", "latency_within_budget")

CATALOGUE: tuple[Requirement, ...] = (
    Requirement(
        "DLR-01",
        "answered_200",
        "Every valid callback is answered with exactly 200 OK",
        "MUST",
        "When a client receives a callback, the Fortytwo API server expects to receive an HTTP 200 OK. "
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried.",
        _ANSWER,
    ),
    Requirement(
        "DLR-02",
        "documented_example",
        "The documented example callback is accepted",
        "MUST",
        "An HTTP request is sent to the specified callback_url with the SMS delivery details in the JSON body, "
        "ex: {...}",
        _ANSWER,
    ),
    Requirement(
        "DLR-03",
        "optional_fields",
        "Optional fields may be empty or absent; the sender comes in either form",
        "MUST",
        "client_job_id: If this field was not supplied, it will not be returned here either. "
        '(The documented example sends client_job_id "", sms_from and viber_from instead of from.)',
        _ANSWER,
    ),
    Requirement(
        "DLR-04",
        "statuses",
        "Every status is accepted: SMPP states, IM statuses and statuses never seen before",
        "MUST",
        "In case of SMS reports, these match the worldwide SMPP v3.4 standard. [...] Statuses for IM extend, "
        "not replace, the SMPP standard.",
        _ANSWER,
        aspect="unknown_status",
    ),
    Requirement(
        "DLR-05",
        "network_types",
        "Every network type the platform sends is accepted: SMS, VIBER, IM_VIBER, INTERNAL",
        "MUST",
        "type | Enum | N | The type of network through which the delivery report originated from. (The values are "
        "not listed on the page; SMS, VIBER, IM_VIBER and INTERNAL are seen in the platform's SDK and pages: a "
        "receiver refusing one loses those reports just as if it refused a status.)",
        _ANSWER,
    ),
    Requirement(
        "DLR-18",
        "unknown_types",
        "Network types never seen before are accepted",
        "SHOULD",
        "Inference, not stated in the documentation: type is an Enum whose list is not published, and the status "
        'list "extend[s], not replace[s]" for new networks; a receiver should not refuse a type it does not know.',
        _ANSWER,
        aspect="unknown_type",
    ),
    Requirement(
        "DLR-06",
        "extra_fields",
        "Unknown extra fields are tolerated at the top level and inside records",
        "SHOULD",
        "Inference, not stated in the documentation: the platform adds fields (the documented example already "
        "carries sms_from and viber_from, which the field table does not list).",
        _ANSWER,
        aspect="extra_fields",
    ),
    Requirement(
        "DLR-07",
        "batches",
        "Batches: several records in one callback, also for one message, and large batches",
        "MUST",
        "data: This contains at least 1 record.",
        _ANSWER,
        judged_also_by=("DLR-13",),
    ),
    Requirement(
        "DLR-08",
        "value_ranges",
        "Values over their whole documented range",
        "MUST",
        "timestamp | long; micro_timestamp | long; error_code | short: Error code, else 0; to: digits between "
        "7-15 digits long. (The example holds milliseconds and microseconds, past 32 bits, and error_code 943 "
        "on a DELIVRD record.)",
        _ANSWER,
        judged_also_by=("DLR-16",),
    ),
    Requirement(
        "DLR-09",
        "retries",
        "Duplicate deliveries (retries) and out-of-order reports are answered 200",
        "MUST",
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried "
        "again. After three failed attempts, with an interval of 5 minutes between them, the callback is discarded.",
        _ANSWER,
        judged_also_by=("DLR-14", "DLR-15"),
    ),
    Requirement(
        "DLR-10",
        "generated",
        "Generated callbacks: every payload the schema allows is answered 200",
        "MUST",
        "The endpoint, on the client side, must therefore fully support this kind of request and respond accordingly.",
        (*_ANSWER, "payload_matches_contract"),
        aspect="realistic",
    ),
    Requirement(
        "DLR-11",
        "capacity",
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
        "https",
        "HTTPS: the receiver's certificate validates",
        "MUST",
        "However, if HTTPS validation fails, the callback is treated as failed.",
        ("certificate_validates",),
        runs_first=True,
    ),
    # what the receiver stored, read back with --state-cmd (not checked without a state reader)
    Requirement(
        "DLR-13",
        "nothing_lost",
        "Nothing acknowledged is lost: every report answered 200 is stored",
        "MUST",
        "When a client receives a callback, the Fortytwo API server expects to receive an HTTP 200 OK. (A report "
        "answered 200 is never sent again: if the receiver did not store it, it is lost for good.)",
        _ANSWER,
        ("acknowledged_reports_are_stored",),
        judged_by_load=True,
    ),
    Requirement(
        "DLR-14",
        "processed_once",
        "Retries are processed once: copies of a report change nothing",
        "MUST",
        "If the client's server is unreachable or does not return a 200 OK, the callback is queued to be retried "
        "again. (A callback counted as failed may have been processed: its retry must not be processed again.)",
        _ANSWER,
        ("retries_processed_once",),
        judged_by_load=True,
    ),
    Requirement(
        "DLR-15",
        "newest_wins",
        "The newest status wins, whatever order the reports arrive in, and with it every value of the newest report",
        "MUST",
        "timestamp: UNIX timestamp (i.e. number of seconds from 1-Jan-1970 in UTC) when the delivery was "
        "completed. (Retries and parallel deliveries make reports arrive out of order; the newest is the status: "
        "the report with the greater timestamp and the greater micro_timestamp, which the tool's reports always "
        "order the same way; where they would not, newest is not judged.)",
        _ANSWER,
        ("newest_status_wins", "newest_values_win"),
    ),
    Requirement(
        "DLR-16",
        "values_intact",
        "Values are stored intact: 64-bit timestamps, short error codes, unicode, 255-character job ids",
        "MUST",
        "timestamp | long; micro_timestamp | long; error_code | short; client_job_id: The Job ID supplied by the "
        "client during the original request. (What is stored must read back exactly as it was sent.)",
        _ANSWER,
        ("values_stored_intact",),
    ),
    Requirement(
        "DLR-19",
        "statuses_recognised",
        "Every status the platform sends is recognised: stored as the receiver's word for it",
        "MUST",
        "Currently, the following statuses can be returned: [...] In case of SMS reports, these match the worldwide "
        "SMPP v3.4 standard. (A receiver that keeps its own words for the statuses must have one for each status "
        "sent; a status its mapping forgets is stored raw or lowercased, and a delivered message never shows as "
        "delivered. Judged against the receiver's status map, --status-map.)",
        _ANSWER,
        ("every_status_recognised",),
        needs_status_map=True,
    ),
    Requirement(
        "DLR-17",
        "adversarial",
        "Adversarial values the schema allows are accepted: control characters, NUL, extreme boundaries",
        "SHOULD",
        "Inference, not stated in the documentation: the fields are typed String and long without excluding any "
        "character or value, but nothing suggests the platform sends control characters, NUL or timestamps far "
        "outside this century and the next; a receiver should still not lose a report over one.",
        _ANSWER,
        aspect="adversarial",
        stored_state_judged=False,
    ),
    # the receiver's security: the platform signs nothing, so the URL and what the owner adds are all that protect it
    Requirement(
        "DLR-20",
        "forgery_refused",
        "Forged callbacks are refused and change nothing: without the run's credentials, or with one altered",
        "SHOULD",
        "Inference, not stated in the documentation: the platform signs nothing (no signature, no published "
        "addresses), and the callback_url is all it is given; a receiver that takes callbacks without the secret its "
        "owner put in the URL or the request lets anyone who learns the URL mark messages delivered or failed.",
        ("forged_callback_refused",),
        stored_state_judged=False,
    ),
    Requirement(
        "DLR-21",
        "internals_hidden",
        "Error answers do not expose the receiver's internals: stack traces, SQL errors, debug pages, server paths",
        "SHOULD",
        "Inference, not stated in the documentation: the body of the response is ignored by the platform, so an "
        "error answer only ever reaches whoever sent the request; a stack trace, an SQL error or a file path in it "
        "tells an attacker how the receiver is built.",
        ("error_answer_hides_internals",),
        stored_state_judged=False,
        runs_last=True,
    ),
    Requirement(
        "DLR-22",
        "early_reports",
        "A report that arrives before its message is known is not lost",
        "SHOULD",
        "Inference, not stated in the documentation, from the retry sentence: \"If the client's server is unreachable "
        "or does not return a 200 OK, the callback is queued to be retried again. After three failed attempts, with "
        'an interval of 5 minutes between them, the callback is discarded." The platform can report on a message '
        "before the customer's sending code has stored the id it got back (a fast rejection, an early ACCEPTD or "
        "ENROUTE); a receiver keeps such a report for later, or answers other than 200 so that it comes again. "
        "Answered 200 and dropped, it is lost for good.",
        _ANSWER,
        ("early_reports_are_stored",),
        needs_preparer=True,
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


def by_key(key: str) -> Requirement:
    """The requirement code knows by ``key`` (``"statuses"``); ``KeyError`` if there is none."""
    return _find("key", key)


def by_aspect(aspect: str) -> Requirement:
    """The requirement under which a failure of a payload with this aspect is recorded."""
    return _find("aspect", aspect)


def _find(attribute: str, value: str) -> Requirement:
    for requirement in CATALOGUE:
        if getattr(requirement, attribute) == value:
            return requirement
    raise KeyError(f"no requirement has {attribute} {value!r}; known: {', '.join(r.key for r in CATALOGUE)}")


def needing_reader() -> tuple[Requirement, ...]:
    """The requirements judged on the stored state: not checked without a state reader."""
    return tuple(r for r in CATALOGUE if r.needs_reader)


def groups() -> dict[str, tuple[Requirement, ...]]:
    """Names for sets of requirements, where options take IDs (``--require-checked stored-state``): ``stored-state``
    is every requirement judged on the stored state but the one that needs the receiver's status map."""
    # the stored state a reader (and a preparer) judges; DLR-19's map is the receiver's own words: named apart
    stored = tuple(r for r in needing_reader() if not r.needs_status_map)
    return {"stored-state": stored, "all": CATALOGUE}


def needing_preparer() -> tuple[Requirement, ...]:
    """The requirements judged only when a preparer creates the messages."""
    return tuple(r for r in CATALOGUE if r.needs_preparer)


def needing_status_map() -> tuple[Requirement, ...]:
    """The requirements judged against the receiver's status map: not checked without one."""
    return tuple(r for r in CATALOGUE if r.needs_status_map)


def judged_by_load() -> tuple[Requirement, ...]:
    """The requirements ``load --state-cmd`` judges after the load."""
    return tuple(r for r in CATALOGUE if r.judged_by_load)


def run_first() -> frozenset[str]:
    """The IDs of the requirements whose tests run before the others."""
    return frozenset(r.id for r in CATALOGUE if r.runs_first)


def run_last() -> frozenset[str]:
    """The IDs of the requirements whose tests run after every other."""
    return frozenset(r.id for r in CATALOGUE if r.runs_last)


def ids_text(requirements: Iterable[Requirement | str]) -> str:
    """IDs as people write them: ``DLR-13..16`` for a run of consecutive numbers, else ``DLR-13, DLR-15``."""
    ids = sorted({r if isinstance(r, str) else r.id for r in requirements})
    parts: list[str] = []
    run: list[str] = []

    def number(rid: str) -> int:
        return int(rid.rsplit("-", 1)[1])

    for rid in ids:
        if run and number(rid) == number(run[-1]) + 1 and rid.rsplit("-", 1)[0] == run[-1].rsplit("-", 1)[0]:
            run.append(rid)
            continue
        if run:
            parts.append(_span(run))
        run = [rid]
    if run:
        parts.append(_span(run))
    return ", ".join(parts)


def _span(run: list[str]) -> str:
    if len(run) <= 2:
        return ", ".join(run)
    return f"{run[0]}..{run[-1].rsplit('-', 1)[1]}"
