"""Stored-state checks: what the receiver stored, compared with what the run sent and was answered 200.

A 200 answer says nothing about what the receiver did with a report. The state reader tells the tool what the
receiver holds per message; the engine's ledger (:mod:`conformance.engine.ledger`) remembers, per message, the
distinct reports sent (a :class:`Message`). The comparisons here relate each stored row to those reports, one
function per property, each returning :class:`Problem`\\ s; the scenario checks registered with
``@scenario_check`` turn them into typed :class:`StateFailure`\\ s, or raise :class:`NotChecked` when the view
cannot decide (the reader gives no ``reports``, say).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from conformance.checks.answers import Failure
from conformance.checks.statuses import Relation, StatusMap, relate
from conformance.requirements import CATALOGUE

COMPARED_FIELDS = (
    "api_job_id",
    "client_job_id",
    "type",
    "to",
    "from",
    "sms_from",
    "viber_from",
    "timestamp",
    "micro_timestamp",
    "error_code",
    "client_message_id",
)


# Requirements whose deliveries the stored-state checks leave out: adversarial values the platform never sends
# (NUL, control characters, 2^63-1): how a receiver stores them (PostgreSQL text cannot hold NUL) is not judged.
NOT_JUDGED = frozenset(r.id for r in CATALOGUE if not r.stored_state_judged)


EVIDENCE_LIMIT = 20


# -- what was sent ----------------------------------------------------------------------------------------------
@dataclass
class Message:
    """What the run sent about one message: its distinct reports (by status), how often each went out."""

    message_id: str
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # status -> the report (record + job ids)
    copies: dict[str, int] = field(default_factory=dict)  # status -> deliveries answered 200 that carried it
    order: list[str] = field(default_factory=list)  # statuses in the order their first copy was answered
    acknowledged: bool = False
    doubtful: str = ""  # why its stored state cannot be judged; "" when it can
    case: str = ""

    def newest(self, among: Iterable[str] | None = None) -> str | None:
        """The status of the newest report, of all or of those ``among``: the greatest timestamp, and the greatest
        micro_timestamp too. None when that is not one report (two tie, or the two fields order the reports
        differently): then "newest" could be read two ways, and nothing is judged on it
        (docs/explanation/verdicts.md)."""
        keyed = []
        chosen = self.reports if among is None else {s: self.reports[s] for s in among if s in self.reports}
        for status, report in chosen.items():
            stamp, micro = report.get("timestamp"), report.get("micro_timestamp")
            if not isinstance(stamp, int) or not isinstance(micro, int):
                return None
            keyed.append((stamp, micro, status))
        if not keyed:
            return None
        by_stamp = sorted(keyed, key=lambda k: k[0])
        by_micro = sorted(keyed, key=lambda k: k[1])
        if len(keyed) > 1 and (by_stamp[-1][0] == by_stamp[-2][0] or by_micro[-1][1] == by_micro[-2][1]):
            return None
        return by_stamp[-1][2] if by_stamp[-1] is by_micro[-1] else None

    def callback(self, status: str) -> dict[str, Any]:
        """The report of ``status`` as a one-record callback (for the evidence and a curl line)."""
        report = dict(self.reports[status])
        body: dict[str, Any] = {"api_job_id": report.pop("api_job_id", None)}
        if "client_job_id" in report:
            body["client_job_id"] = report.pop("client_job_id")
        body["data"] = [report]
        return body


# -- comparing what was sent with what is stored ----------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One message whose stored state is wrong: the sentence, the reports involved and the row read."""

    message_id: str
    text: str
    reports: tuple[dict[str, Any], ...] = ()
    row: dict[str, Any] | None = None
    case: str = ""


def short_id(message_id: str) -> str:
    """A long id as ``1446…003``: enough to recognise it in a sentence (the evidence has it whole)."""
    return message_id if len(message_id) <= 12 else f"{message_id[:4]}…{message_id[-3:]}"


def _unrelated(relation: Relation, status_map: StatusMap | None) -> str:
    """The sentence for a stored status that stands for none of the statuses sent."""
    if status_map is not None:
        if relation.stored in status_map.words:
            return f"holds {relation.stored!r}, the receiver's word for none of the statuses sent (status map)"
        return f"holds status {relation.stored!r}, none of the statuses sent and none of the receiver's words"
    return (
        f"holds status {relation.stored!r}, none of the statuses sent (a receiver that stores its own words for "
        "the statuses needs --status-map)"
    )


class Acknowledged(Protocol):
    """What the lost-report and processed-once comparisons need of a ledger: the suite's ledger, or the load's
    compact one, which builds each :class:`Message` as it is asked for."""

    def acknowledged(self) -> Iterable[Message]:
        """The messages of which at least one report was answered 200."""
        ...


def lost_reports(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> list[Problem]:
    """Nothing lost: every message acknowledged with 200 is known to the receiver with a report applied."""
    return list(iter_lost_reports(ledger, rows, status_map=status_map))


def iter_lost_reports(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> Iterator[Problem]:
    """:func:`lost_reports` one problem at a time (a load run counts them all and keeps a few)."""
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        sent = " and ".join(message.order)
        reports = tuple(message.callback(s) for s in message.order)
        if row is None:
            yield Problem(
                message.message_id,
                f"message {short_id(message.message_id)}: not stored (the reader returned no row), although "
                f"the receiver answered 200 to {sent}: the report is lost, the platform never sends it again",
                reports,
                None,
                message.case,
            )
            continue
        status = row.get("status")
        if not status:
            text = "known, but no status stored: the report was not applied"
        else:
            relation = relate(str(status), message.reports, status_map)
            if relation.statuses:
                continue
            text = _unrelated(relation, status_map) + ": the report was not applied"
        yield Problem(
            message.message_id,
            f"message {short_id(message.message_id)}: {text} (sent {sent}, each answered 200)",
            reports,
            dict(row),
            message.case,
        )


def _relation(message: Message, row: Mapping[str, Any], status_map: StatusMap | None) -> Relation | None:
    """How the row's status relates to the message's reports; None when no status is stored (a lost report)."""
    status = row.get("status")
    return relate(str(status), message.reports, status_map) if status else None


def misprocessed_retries(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> list[Problem]:
    """Processed once: ``reports`` equals the number of distinct reports sent, however often each was delivered."""
    return list(iter_misprocessed_retries(ledger, rows, status_map=status_map))


def iter_misprocessed_retries(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> Iterator[Problem]:
    """:func:`misprocessed_retries` one problem at a time (a message whose stored status is none of those sent is
    not judged: what it processed cannot be told)."""
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None or not isinstance(row.get("reports"), int):
            continue
        relation = _relation(message, row, status_map)
        if relation is not None and not relation.statuses:
            continue
        processed, distinct = int(row["reports"]), len(message.order)
        if processed == distinct:
            continue
        copies = ", ".join(f"{s} was delivered {n} time{'s' if n != 1 else ''}" for s, n in message.copies.items())
        if processed > distinct:
            why = "a retry was processed again" if max(message.copies.values()) > 1 else "a report was counted twice"
        else:
            why = "a report was dropped"
        yield Problem(
            message.message_id,
            f"message {short_id(message.message_id)}: {processed} report{'s' if processed != 1 else ''} "
            f"processed, {distinct} sent ({copies}: {why})",
            tuple(message.callback(s) for s in message.order),
            dict(row),
            message.case,
        )


def _ordered(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], status_map: StatusMap | None
) -> Iterator[tuple[Message, Mapping[str, Any], str, Relation]]:
    """The messages with several reports, one of them the newest, and a stored status: with the newest status and
    what the stored one stands for."""
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None or len(message.reports) < 2:
            continue
        newest, relation = message.newest(), _relation(message, row, status_map)
        if newest is not None and relation is not None:
            yield message, row, newest, relation


def older_status_kept(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> list[Problem]:
    """The newest wins: of several reports of one message, the stored status stands for the newest one, whatever
    the order; judged on what the stored status stands for, however it was mangled."""
    problems = []
    for message, row, newest, relation in _ordered(ledger, rows, status_map):
        reports = tuple(message.callback(s) for s in message.order)
        if not relation.statuses:
            text = _unrelated(relation, status_map) + ": which report won cannot be told, so the newest did not"
            problems.append(Problem(message.message_id, f"message {short_id(message.message_id)}: {text}",
                                    reports, dict(row), message.case))  # fmt: skip
            continue
        if newest in relation.statuses:
            continue
        kept = [s for s in message.order if s in relation.statuses][-1]
        shown = kept if relation.stored == kept else f"{relation.stored!r} (for {kept})"
        arrival = " then ".join(message.order)
        new, old = message.reports[newest], message.reports[kept]
        stamps = f"timestamp {new.get('timestamp')} > {old.get('timestamp')}, micro_timestamp "
        stamps += f"{new.get('micro_timestamp')} > {old.get('micro_timestamp')}"
        problems.append(
            Problem(
                message.message_id,
                f"message {short_id(message.message_id)}: stored status {shown}, but {newest} is the newest "
                f"({stamps}); they arrived {arrival}: "
                + ("the last arrival won" if message.order[-1] == kept else "a newer report did not replace it"),
                reports,
                dict(row),
                message.case,
            )
        )
    return problems


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _same(sent: Any, stored: Any) -> bool:
    if _blank(sent) and _blank(stored):  # an empty and a null optional string count as equal
        return True
    if isinstance(sent, int) and not isinstance(sent, bool):
        if isinstance(stored, str) and stored.strip().lstrip("-").isdigit():
            return int(stored) == sent
        return isinstance(stored, int | float) and not isinstance(stored, bool) and stored == sent
    return bool(sent == stored)


def _how(sent: Any, stored: Any) -> str:
    """Why a stored value differs, when the difference has a known cause."""
    if isinstance(sent, int) and isinstance(stored, int | float) and not isinstance(stored, bool):
        stored = int(stored)
        if stored in (sent & 0xFFFFFFFF, ((sent + 2**31) % 2**32) - 2**31, min(sent, 2**31 - 1)):
            return " (cut to 32 bits)"
        if stored in (sent & 0xFF, ((sent + 128) % 256) - 128, max(-128, min(sent, 127)), max(0, min(sent, 255))):
            return " (stored in a byte)"
        if sent > 2**53 and stored != sent:
            return " (stored as a floating-point number)"
    if isinstance(sent, str) and isinstance(stored, str):
        if sent.startswith(stored):
            return f" (cut to {len(stored)} of {len(sent)} characters)"
        if "?" in stored and len(stored) <= len(sent) and not sent.isascii():
            return " (non-ASCII characters replaced by '?')"
        if stored.lower() == sent.lower():
            return " (its case changed)"
    return ""


def values_not_intact(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> list[Problem]:
    """Values intact: every field the reader returns equals what was sent in the report the stored status stands
    for (the newest of them, with a map's word for several); a mangled status is itself a mangled value."""
    problems = []
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None:
            continue
        relation = _relation(message, row, status_map)
        reports = tuple(message.callback(s) for s in message.order)
        wrong = []
        if relation is None:
            key = message.newest()
        elif not relation.statuses:
            text = _unrelated(relation, status_map) + ": its values cannot be told from what was sent"
            problems.append(Problem(message.message_id, f"message {short_id(message.message_id)}: {text}",
                                    reports, dict(row), message.case))  # fmt: skip
            continue
        else:
            key = message.newest(relation.statuses) or relation.statuses[-1]
            if (
                relation.mangled and status_map is None
            ):  # with a map, an unrecognised status is every_status_recognised's
                wrong.append(f"status {relation.stored!r}, sent {key!r}{_how(key, relation.stored)}")
        if key is None:
            continue
        reference = message.reports[key]
        for name in COMPARED_FIELDS:
            if name in row and name in reference and not _same(reference[name], row[name]):
                sent, stored = reference[name], row[name]
                if _stale_from(message, key, name, stored) is None:  # an older report's value: newest_values_win's
                    wrong.append(f"{name} {_show(stored)}, sent {_show(sent)}{_how(sent, stored)}")
        if wrong:
            problems.append(
                Problem(
                    message.message_id,
                    f"message {short_id(message.message_id)}: stored " + "; ".join(wrong),
                    reports,
                    dict(row),
                    message.case,
                )
            )
    return problems


def _stale_from(message: Message, key: str, name: str, stored: Any) -> str | None:
    """The status of another report of the message whose ``name`` is the ``stored`` value, if any (a value an
    older report left, which the newest did not replace)."""
    for status, report in message.reports.items():
        if status != key and name in report and _same(report[name], stored):
            return status
    return None


def stale_values(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
) -> list[Problem]:
    """The newest report's values win: with the newest status stored, every other field is the newest report's too,
    not a value an older report left (an error code written only when non-zero, say)."""
    problems = []
    for message, row, newest, relation in _ordered(ledger, rows, status_map):
        if newest not in relation.statuses:
            continue  # an older status kept, or none related: newest_status_wins says so
        reference = message.reports[newest]
        stale = []
        for name in COMPARED_FIELDS:
            if name in row and name in reference and not _same(reference[name], row[name]):
                older = _stale_from(message, newest, name, row[name])
                if older is not None:
                    stale.append(f"{name} {_show(row[name])} from the older {older}, the newest {newest} says "
                                 f"{_show(reference[name])}")  # fmt: skip
        if stale:
            problems.append(
                Problem(
                    message.message_id,
                    f"message {short_id(message.message_id)}: stored status {newest}, the newest, but "
                    + "; ".join(stale)
                    + f"; they arrived {' then '.join(message.order)}: the newest report's values did not all win",
                    tuple(message.callback(s) for s in message.order),
                    dict(row),
                    message.case,
                )
            )
    return problems


def unrecognised_statuses(
    ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], status_map: StatusMap
) -> list[Problem]:
    """Every status recognised: a message's stored status is one of the receiver's words (the status map), and for
    a message with one report the word of the status sent."""
    problems = []
    for message in ledger.acknowledged():
        row = rows.get(message.message_id)
        if message.doubtful or row is None or not row.get("status"):
            continue
        relation = relate(str(row["status"]), message.reports, status_map)
        stored = relation.stored
        if relation.exact:
            if relation.statuses or len(message.reports) != 1:
                continue  # a word of a status sent; which one won is newest_status_wins's to judge
            sent = next(iter(message.reports))
            if not status_map.must_recognise(sent):
                continue
            text = (
                f"{sent} was stored as {stored!r}, the receiver's word for "
                f"{', '.join(status_map.words[stored]) or 'no status'} (status map), not {status_map.word_of(sent)!r}: "
                f"the receiver mistakes {sent}"
            )
        else:
            sent = relation.statuses[0] if relation.statuses else message.newest() or message.order[-1]
            if not status_map.must_recognise(sent):
                continue
            text = (
                f"{sent} was stored as {stored!r}, which is none of your receiver's words (status map): the receiver "
                f"does not recognise {sent}"
            )
        problems.append(
            Problem(
                message.message_id,
                f"message {short_id(message.message_id)}: {text}",
                tuple(message.callback(s) for s in message.order),
                dict(row),
                message.case,
            )
        )
    return problems


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:80] + f"… ({len(text)} characters)"


# -- scenario checks: what a scenario left in the receiver's store -------------------------------------------------
@dataclass(frozen=True)
class StateView:
    """What a scenario check sees: the reports the run sent (the ledger) and the reader's rows, by message id."""

    ledger: Acknowledged
    rows: Mapping[str, Mapping[str, Any]]
    prepared: bool = False  # a preparer created the run's messages before they were reported on
    status_map: StatusMap | None = None  # the receiver's words for the statuses (--status-map)


class StateFailure(Failure):
    """The stored state contradicts what was sent and answered 200: one problem per message."""

    title = "The stored state is wrong"

    def __init__(self, problems: list[Problem], expected: str, *, check: str = "") -> None:
        more = f" (and {len(problems) - 1} more message{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        super().__init__(problems[0].text + more, expected, check=check)
        self.problems = problems


class LostReport(StateFailure):
    """A report answered 200 is not in the receiver's store."""

    title = "A report answered 200 was lost: the receiver does not have it"


class NothingKnown(LostReport):
    """The reader knows none of the run's messages."""

    title = "The receiver stored none of the run's reports"


class RetryProcessedAgain(StateFailure):
    """``reports`` differs from the number of distinct reports sent."""

    title = "Reports were not processed exactly once"


class OlderStatusKept(StateFailure):
    """An older status is stored although a newer one was answered 200."""

    title = "An older status overwrote the newest one"


class ValueMangled(StateFailure):
    """A stored field differs from the report sent."""

    title = "A value was stored mangled"


class ForgeryStored(StateFailure):
    """A forged callback (credentials left out or altered) changed what the receiver stored."""

    title = "A forged callback changed the stored state"


class StaleValueKept(StateFailure):
    """The newest status is stored, but a field still holds an older report's value."""

    title = "An older report's value was kept beside the newest status"


class StatusNotRecognised(StateFailure):
    """A status sent is stored as none of the receiver's words, or as the word of another status."""

    title = "A status was not recognised"


class NotChecked(Exception):  # an outcome, not an error: no "Error" suffix
    """The scenario check could not decide (the reason says why); neither a pass nor a failure."""


@dataclass
class ScenarioOutcome:
    """Every failure of the scenario checks of one requirement, and what they could not check."""

    failures: list[StateFailure] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no scenario check failed."""
        return not self.failures


ScenarioFn = Callable[[StateView], None]


SCENARIO_CHECKS: dict[str, ScenarioFn] = {}


def scenario_check(fn: ScenarioFn) -> ScenarioFn:
    """Register a scenario check under its function name."""
    SCENARIO_CHECKS[fn.__name__] = fn
    return fn


def _nothing_to_compare(view: StateView) -> None:
    if view.ledger.acknowledged() and not any(m.message_id in view.rows for m in view.ledger.acknowledged()):
        raise NotChecked("the reader returned no row for the run's messages, so there is nothing to compare")


class _Comparison(Protocol):
    def __call__(
        self, ledger: Acknowledged, rows: Mapping[str, Mapping[str, Any]], *, status_map: StatusMap | None = None
    ) -> list[Problem]: ...


def _compare(view: StateView, comparison: _Comparison, failure: type[StateFailure], expected: str) -> None:
    """Run one comparison over the view; raise ``failure`` with its problems, if any."""
    _nothing_to_compare(view)
    problems = comparison(view.ledger, view.rows, status_map=view.status_map)
    if problems:
        raise failure(problems, expected)


@scenario_check
def acknowledged_reports_are_stored(view: StateView) -> None:
    """Every record of every callback answered 200 is known to the receiver, with a report applied."""
    acknowledged = list(view.ledger.acknowledged())
    if not acknowledged:
        raise NotChecked("no report was answered 200, so none had to be stored")
    problems = lost_reports(view.ledger, view.rows, status_map=view.status_map)
    if len(problems) == len(acknowledged) and not any(m.message_id in view.rows for m in acknowledged):
        hint = (
            "the receiver stored nothing, or the reader reads another place than the receiver writes"
            if view.prepared
            else "the receiver may have ignored every report as one for an unknown message: give --prepare-cmd "
            "to create the run's messages first; or the reader reads another place than the receiver writes"
        )
        first = problems[0]
        problems[0] = Problem(
            first.message_id,
            f"the reader knows none of the {len(acknowledged)} messages answered 200 in this run ({hint})",
            first.reports,
            None,
            first.case,
        )
        raise NothingKnown(problems[:1], "every message answered 200 is known to the receiver")
    if problems:
        raise LostReport(
            problems,
            "every record of every callback answered 200 is stored: the platform never sends it again",
        )


EARLY = "report before its message was known"
"""How every delivery of the early-report scenario is labelled: its messages are those whose case starts so."""


class EarlyReportLost(LostReport):
    """A report answered 200 for a message not known yet was not kept until the message was."""

    title = "A report that came before its message was known was lost"


@dataclass(frozen=True)
class _Early:
    """The messages of the early-report scenario, of a whole run's ledger."""

    ledger: Acknowledged

    def acknowledged(self) -> list[Message]:
        return [m for m in self.ledger.acknowledged() if m.case.startswith(EARLY)]


@scenario_check
def early_reports_are_stored(view: StateView) -> None:
    """A report of a message not prepared yet, answered 200, shows in the stored state once the message is prepared
    (kept for later); one answered otherwise was retried after the preparer ran, and that retry is judged."""
    early = _Early(view.ledger)
    if not early.acknowledged():
        raise NotChecked("no report of a message not known yet was answered 200, not even its retry")
    problems = lost_reports(early, view.rows, status_map=view.status_map)
    if problems:
        raise EarlyReportLost(
            problems,
            "a report for a message not known yet is kept until the message is (or answered other than 200, so "
            "that the platform sends it again): once the message is stored, its status shows",
        )


@scenario_check
def retries_processed_once(view: StateView) -> None:
    """``reports`` equals the number of distinct reports sent for each message, however often each was retried."""
    _nothing_to_compare(view)
    if not any(isinstance(view.rows.get(m.message_id, {}).get("reports"), int) for m in view.ledger.acknowledged()):
        raise NotChecked("the reader gives no reports field, so duplicate processing cannot be seen")
    if not any(
        _relation(m, view.rows[m.message_id], view.status_map)
        != Relation(str(view.rows[m.message_id]["status"]), (), False)
        for m in view.ledger.acknowledged()
        if m.message_id in view.rows
    ):
        raise NotChecked("no stored status is one of the statuses sent, so what was processed cannot be told")
    problems = misprocessed_retries(view.ledger, view.rows, status_map=view.status_map)
    if problems:
        raise RetryProcessedAgain(
            problems,
            "each distinct report processed exactly once: a retry of a report already processed changes nothing",
        )


@scenario_check
def newest_status_wins(view: StateView) -> None:
    """Of several reports of one message, the stored status is the one with the newest timestamp."""
    _compare(
        view,
        older_status_kept,
        OlderStatusKept,
        "the status of the newest report (the greater timestamp and micro_timestamp), whatever order the reports "
        "arrived in",
    )


@scenario_check
def newest_values_win(view: StateView) -> None:
    """With the newest status stored, every field the reader returns is the newest report's, not an older one's."""
    _compare(
        view,
        stale_values,
        StaleValueKept,
        "every field of the newest report: an error_code of 0, its timestamps, its sender, whatever came before",
    )


@scenario_check
def values_stored_intact(view: StateView) -> None:
    """Every field the reader returns equals the report sent (an empty and a null optional string are equal)."""
    _compare(
        view,
        values_not_intact,
        ValueMangled,
        "every value exactly as sent: 64-bit integers, the whole short range, unicode",
    )


@scenario_check
def every_status_recognised(view: StateView) -> None:
    """Every status sent is stored as the receiver's word for it (the status map); not checked without a map."""
    if view.status_map is None:
        raise NotChecked(
            "no status map was given, so which of the receiver's words stands for which status is unknown; give "
            "one with --status-map FILE (docs/how-to/state.md)"
        )
    _nothing_to_compare(view)
    problems = unrecognised_statuses(view.ledger, view.rows, view.status_map)
    if problems:
        raise StatusNotRecognised(
            problems,
            "every status the platform sends stored as the receiver's word for it (the status map), "
            "statuses never seen before as the word of '*'",
        )


def run_scenario_checks(view: StateView, names: Iterable[str]) -> ScenarioOutcome:
    """Run the named scenario checks on one view of the stored state."""
    outcome = ScenarioOutcome()
    for name in names:
        try:
            SCENARIO_CHECKS[name](view)
        except StateFailure as failure:
            failure.check = failure.check or name
            outcome.failures.append(failure)
        except NotChecked as reason:
            outcome.not_checked.append(str(reason))  # in the user's words: no check name
    return outcome
