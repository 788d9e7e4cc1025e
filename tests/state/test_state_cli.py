"""Stored-state checks (DLR-13..16) through the CLI: faulty stateful receivers, correct ones, and broken readers
and preparers.

Every faulty receiver answers 200 to everything (but one, and only with a preparer): the fault is caught only by
reading back what it stored, and the failure names it. The runs are limited to the state scenarios
(``-k test_state``), whose own deliveries cover every fault.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.runs import SuiteRun, run_suite
from tests.support.stateful import StatefulReceiver, write_status_map

STATE = ("-k", "test_state", "--retry-interval", "0", "--examples", "5")
QUICK = ("--state-timeout", "2")
NOT_CHECKED = {"skipped", "not_checked"}  # a requirement's state when its scenario could not judge


@dataclass(frozen=True)
class StateFault:
    """A faulty stateful receiver and how the run must catch it."""

    fault: str
    requirements: frozenset[str]
    says: tuple[str, ...]
    check: str
    prepare: bool = False


def _reqs(*ids: int) -> frozenset[str]:
    return frozenset(f"DLR-{i:02d}" for i in ids)


FAULTS = (
    StateFault("reprocess", _reqs(14), ("processed, 1 sent", "a retry was processed again"), "retries_processed_once"),
    StateFault(
        "race", _reqs(14), ("reports processed, 1 sent", "a retry was processed again"), "retries_processed_once"
    ),
    StateFault(
        "last_wins",
        _reqs(15),
        ("stored status ENROUTE, but DELIVRD is the newest", "micro_timestamp", "the last arrival won"),
        "newest_status_wins",
    ),
    StateFault(
        "first_record",
        _reqs(13, 15),
        ("not stored (the reader returned no row)", "the report is lost"),
        "acknowledged_reports_are_stored",
    ),
    StateFault(
        "drop_unknown", _reqs(13), ("not stored", "answered 200 to X_FUTURE_STATUS_"), "acknowledged_reports_are_stored"
    ),
    StateFault("ts32", _reqs(16), ("timestamp", "(cut to 32 bits)"), "values_stored_intact"),
    StateFault("unicode_q", _reqs(16), ("(non-ASCII characters replaced by '?')",), "values_stored_intact"),
    StateFault("errbyte", _reqs(16), ("error_code", "(stored in a byte)"), "values_stored_intact"),
    StateFault("cut_job", _reqs(16), ("client_job_id", "(cut to 100 of 255 characters)"), "values_stored_intact"),
    StateFault("drop_concurrent", _reqs(13), ("burst callback", "not stored"), "acknowledged_reports_are_stored"),
    StateFault("lower", _reqs(16), ("status 'delivrd', sent 'DELIVRD' (its case changed)",), "values_stored_intact"),
    # SQL built by concatenation: a quote breaks it (500); ' OR '1'='1 is evaluated: in the api_job_id it stores 0,
    # in the message_id of the WHERE clause it updates every row
    StateFault(
        "concat",
        _reqs(16, 17),  # the 500 on a quote under DLR-17, the hostile text it exercises; the evaluated text DLR-16
        ("Failed with a server error", "hostile text in client ids", 'stored api_job_id "0"'),
        "values_stored_intact",
    ),
    # one fault never masks another: a lowercased older status that won fails both properties, each in its words
    StateFault(
        "lower_last_wins",
        _reqs(15, 16),
        (
            "stored status 'enroute' (for ENROUTE), but DELIVRD is the newest",
            "the last arrival won",
            "(its case changed)",
        ),
        "newest_status_wins",
    ),
    StateFault(
        "stale_error",
        _reqs(15),
        (
            "stored status DELIVRD, the newest, but error_code 943 from the older ENROUTE, the newest DELIVRD says 0",
            "the newest report's values did not all win",
        ),
        "newest_values_win",
    ),
    StateFault(
        "bogus",
        _reqs(13, 15, 16),
        (
            "holds status 'BOGUS', none of the statuses sent",
            "the report was not applied",
            "which report won cannot be told",
        ),
        "acknowledged_reports_are_stored",
    ),
    # a 500 is never acknowledged: one finding, under the requirement its payload exercises (DLR-04), not DLR-13/16
    StateFault(
        "long_status_500",
        _reqs(4, 22),  # it keeps only prepared messages: the early reports are dropped too
        (
            "Failed with a server error",
            "unknown status of 32 characters",
            "A batch of 7 records was refused (answering 500), yet the receiver applied 3 of its 7 records: the "
            "batch is not applied whole, and the platform's retry delivers all 7 again",
        ),
        "status_code_is_200",
        prepare=True,
    ),
)


def _run(tmp_path: Path, receiver: StatefulReceiver, *args: str, prepare: bool = False) -> SuiteRun:
    extra = ("--prepare-cmd", receiver.preparer) if prepare else ()
    return run_suite(tmp_path, receiver.url, *STATE, "--state-cmd", receiver.reader, *extra, *args)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.fault)
def test_faulty_receiver_caught_through_the_reader(
    fault: StateFault, stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Exit 1, not conformant, exactly the expected requirements failing, the fault named in the reports."""
    reports = _run(tmp_path, stateful(fault.fault), *QUICK, prepare=fault.prepare)
    assert reports.code == 1, reports.output[-3000:]
    assert reports.verdict == "not_conformant"
    assert reports.failing_requirements == fault.requirements, reports.failure_text()[:3000]
    assert fault.check in reports.checks
    text = reports.failure_text()
    for words in fault.says:
        assert words in text, f"{words!r} not in the reports:\n{text[:3000]}"
    assert "stored" in reports.html
    if "stored" in fault.check or fault.check.endswith(("_wins", "_once", "_intact")):
        assert "Stored row (the state reader" in reports.html  # the row read, under its own heading


def test_receiver_that_keeps_only_its_own_messages_is_not_checked_without_a_preparer(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Without --prepare-cmd a receiver that ignores reports of messages it never sent (what the platform expects)
    stores none of the run's: the stored state is not checked, with the hint to give a preparer; not a finding,
    and the verdict is not lowered."""
    receiver = stateful("long_status_500")
    reports = run_suite(tmp_path, receiver.url, "-k", "test_state or documented", "--retry-interval", "0",
                        "--state-cmd", receiver.reader, *QUICK)  # fmt: skip
    assert reports.code == 0, reports.output[-3000:]
    assert reports.verdict == "conformant"
    rows = reports.states()
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16, 19)} <= NOT_CHECKED, rows
    assert "the receiver keeps only messages it sent" in reports.output
    assert "give --prepare-cmd" in reports.output
    assert "no preparer" in reports.summary["stored_state"]


def test_preparer_and_reader_on_different_stores_is_an_error(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """With a preparer, a reader that knows none of the prepared messages reads another store: verdict error, exit
    3, saying so; never a finding against the receiver."""
    receiver, elsewhere = stateful("only_prepared"), stateful()
    reports = run_suite(tmp_path, receiver.url, *STATE, "--state-cmd", elsewhere.reader,
                        "--prepare-cmd", receiver.preparer, *QUICK)  # fmt: skip
    assert reports.code == 3, reports.output[-3000:]
    assert reports.verdict == "error"
    assert "the preparer's messages are not what the reader reads; check both against one store" in reports.output
    assert "was lost" not in reports.failure_text()
    assert "stored none of the run" not in reports.failure_text()


@pytest.mark.parametrize(
    ("variant", "prepare"), [("", False), ("delay", False), ("only_prepared", True), ("no_reports", False)]
)
def test_correct_receiver_passes(
    variant: str, prepare: bool, stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Correct receivers pass: one that stores 1-2 s after answering, one that only updates prepared messages, one
    whose reader gives no reports (duplicate processing then not checked)."""
    receiver = stateful("" if variant == "no_reports" else variant, reports=variant != "no_reports")
    reports = _run(tmp_path, receiver, prepare=prepare)
    assert reports.code == 0, reports.output[-3000:]
    assert reports.verdict in {"conformant", "conformant_with_warnings"}
    rows = reports.states()
    if variant == "no_reports":
        assert rows["DLR-14"] in NOT_CHECKED
        skipped = reports.testcases()["test_retries_processed_once"].find("skipped")
        assert skipped is not None
        assert "the reader gives no reports field" in skipped.attrib.get("message", "")
        assert "retries_processed_once" not in skipped.attrib.get("message", "")  # no internal names
        assert {rows[r] for r in ("DLR-13", "DLR-15", "DLR-16")} <= {"passed", "warnings"}
    else:
        assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16)} <= {"passed", "warnings"}, rows


def test_whole_suite_with_reader_and_preparer(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """Every scenario (edge cases, duplicates, burst, stream, generated payloads) is prepared and then judged by
    the stored state: a receiver that only updates prepared messages passes the whole suite (but DLR-22, a SHOULD).
    The preparer is called three times: every scenario's messages before the first delivery, the generated
    payloads' (60: three of the worker's batches) before any of them is delivered, and the early-report
    scenario's after their first reports."""
    receiver = stateful("only_prepared")
    seen = tmp_path / "reports-seen-by-each-preparer-call"
    count = "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from processed')"
    count += ".fetchone()[0])"
    python = shlex.quote(sys.executable)
    preparer = f"{python} -c {shlex.quote(count)} {shlex.quote(receiver.db)} >> {seen}; {receiver.preparer}"
    reports = run_suite(
        tmp_path, receiver.url, "--examples", "60", "--retry-interval", "0", "--state-cmd", receiver.reader,
        "--prepare-cmd", preparer,
    )  # fmt: skip
    assert reports.code == 0, reports.output[-3000:]
    notes = [line for line in reports.output.splitlines() if "Stored state of" in line]
    assert not notes or all("the reader knew" in line for line in notes)
    assert reports.summary["requests_sent"] > 350
    assert "messages created first with the preparer" in reports.summary["stored_state"]
    # every scenario's messages in one call before the first delivery, the generated payloads' in one more, and
    # the early-report scenario's after their first reports (its point)
    assert reports.summary["state_commands"]["preparer"]["calls"] == 3
    assert reports.summary["state_commands"]["reader"]["polls"] >= 4
    assert "State commands: preparer: 3 calls, " in reports.output
    first, *later = (int(line) for line in seen.read_text(encoding="utf-8").split())
    assert first == 0  # before the first delivery
    assert all(later)


def test_no_reader_reports_not_checked(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """Without a reader DLR-13..16 and DLR-19 are not checked (not passed, not failed) everywhere, and say how to
    give one."""
    receiver = stateful()
    reports = run_suite(tmp_path, receiver.url, "-k", "test_state or documented", "--retry-interval", "0")
    assert reports.code == 0, reports.output[-3000:]
    rows = reports.states()
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16, 19, 22)} <= NOT_CHECKED
    assert rows["DLR-02"] == "passed"
    assert "give one with --state-cmd" in reports.output
    skipped = [case for case in reports.junit.iter("testcase") if case.find("skipped") is not None]
    assert len(skipped) == 6  # DLR-13..16, DLR-19 and DLR-22
    # the headline names the MUST requirements not checked, the reason said once, in every output
    headline = "CONFORMANT (PARTIAL; not checked: DLR-13..16, DLR-19: no state reader was given)"
    assert reports.summary["banner"] == headline
    assert f"verdict: {headline}" in reports.output
    assert headline in reports.html
    assert reports.summary["explanation"].count("no state reader was given") == 1
    assert all("--state-cmd" in (case.find("skipped").attrib.get("message", "")) for case in skipped)  # type: ignore[union-attr]
    assert "--state-cmd" in reports.html


BROKEN_READERS = [
    ("echo 'cannot connect: password authentication failed' >&2; exit 3", "exited with status 3",
     "password authentication failed"),
    ("echo '{not json'", "printed invalid JSON on line 1", ""),
    ("""echo '{"message_id": "1"}'""", "printed row 1 without a status string", ""),
    ("""echo '{"status": "DELIVRD"}'""", "printed row 1 without a message_id string", ""),
    ("echo waiting >&2; sleep 30", "did not finish within 1 s (--state-timeout) and was stopped", "waiting"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "problem", "stderr"), BROKEN_READERS, ids=["exit", "json", "status", "id", "hang"])
def test_broken_reader_is_a_usage_error(
    command: str, problem: str, stderr: str, stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """A broken reader stops the run before anything is sent: exit 4, one line naming the problem and its stderr."""
    receiver = stateful()
    done = run_cli_raw(tmp_path, receiver.url, "--state-cmd", command, "--state-timeout", "1")
    assert done[0] == 4, done[1]
    lines = [line for line in done[1].splitlines() if "--state-cmd" in line]
    assert len(lines) == 1, done[1]
    assert problem in lines[0]
    assert stderr in lines[0]
    assert "Traceback" not in done[1]
    assert "sending" not in done[1]


def test_broken_preparer_before_the_first_delivery_is_a_usage_error(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """A preparer that fails before the first delivery: exit 4 with its stderr, nothing sent, no traceback."""
    receiver = stateful()
    command = "echo 'INSERT failed: permission denied for table message' >&2; exit 1"
    code, output = run_cli_raw(
        tmp_path, receiver.url, "-k", "test_state", "--state-cmd", receiver.reader, "--prepare-cmd", command
    )
    assert code == 4, output
    assert "--prepare-cmd: the preparer (--prepare-cmd) exited with status 1" in output
    assert "permission denied for table message" in output
    assert "Traceback" not in output
    assert "_pytest" not in output
    assert "failed (MUST)" not in output
    kept = tmp_path / "reports" / "preparer-stderr.txt"  # the whole stderr, beside the reports
    assert f"(its whole stderr: {Path('reports') / 'preparer-stderr.txt'})" in output
    assert kept.read_text(encoding="utf-8") == "INSERT failed: permission denied for table message\n"


def test_preparer_failing_later_is_an_error_not_a_failure(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """A preparer that fails after deliveries were made: exit 3, one line saying so; the requirement it was
    preparing for is not checked (never failed), the run stops, no pytest internals."""
    receiver = stateful()
    flag = tmp_path / "called-once"
    command = (
        f"test -e {flag} && {{ echo 'UNIQUE constraint failed: message.message_id' >&2; exit 1; }}; "
        f"touch {flag}; {receiver.preparer}"
    )
    reports = run_suite(
        tmp_path, receiver.url, "-k", "minimal or generated", "--examples", "5", "--state-cmd", receiver.reader,
        "--prepare-cmd", command,
    )  # fmt: skip
    assert reports.code == 3, reports.output[-3000:]
    assert reports.verdict == "error"
    assert reports.summary["internal_error"].startswith("--prepare-cmd: the preparer (--prepare-cmd) exited")
    assert "UNIQUE constraint failed" in reports.summary["internal_error"]
    assert reports.states()["DLR-10"] == "not_checked"
    assert not reports.failing_requirements
    assert "failed (MUST)" not in reports.output
    assert "_pytest" not in reports.output
    assert "Traceback" not in reports.output


def test_reader_that_breaks_later_is_an_error(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """A reader that passes the check before sending but fails afterwards: verdict error, exit 3, the reason."""
    receiver = stateful()
    command = (
        "python3 -c 'import json,sys; d=json.load(sys.stdin); "
        'sys.exit(0 if not d["message_ids"] else print("lost connection to secretdb", file=sys.stderr) or 2)\''
    )
    reports = run_suite(tmp_path, receiver.url, *STATE, "--state-cmd", f"PGPASSWORD=hunter2hunter {command}")
    assert reports.code == 3, reports.output[-3000:]
    assert reports.verdict == "error"
    assert "could not read the stored state" in reports.output
    assert "lost connection to secretdb" in reports.output
    for text in (reports.output, reports.html, str(reports.summary)):
        assert "hunter2hunter" not in text


def run_cli_raw(tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    """Run the CLI where no reports are expected (a usage error); exit code and output."""
    done = invoke("--target-url", url, *args, cwd=tmp_path)
    return done.code, done.output


def test_require_checked_fails_a_run_that_did_not_check_them(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """--require-checked stored-state without a reader: exit 1, naming each requirement not checked; with the
    reader the same run passes. -q keeps the line that says how the stored state was (not) judged."""
    receiver = stateful()
    selection = ("-k", "test_state or documented", "--retry-interval", "0")
    unread = run_suite(tmp_path / "unread", receiver.url, *selection, "--require-checked", "stored-state", "-q")
    assert unread.code == 1, unread.output[-3000:]
    assert unread.verdict == "not_conformant"
    assert unread.summary["required_not_checked"] == ["DLR-13", "DLR-14", "DLR-15", "DLR-16", "DLR-22"]
    assert "--require-checked: DLR-13..16, DLR-22 not checked, so the run fails" in unread.output
    assert "Stored state: not checked (DLR-13..16, DLR-19, DLR-22): no state reader" in unread.output
    read = run_suite(
        tmp_path / "read", receiver.url, *selection, "--require-checked", "dlr-13,DLR-16", "--state-cmd",
        receiver.reader, "-q",
    )  # fmt: skip
    assert read.code == 0, read.output[-3000:]
    assert read.summary["options"]["require_checked"] == ["DLR-13", "DLR-16"]
    assert read.summary["required_not_checked"] == []
    assert "no preparer: a receiver that only updates messages it sent may have ignored" in read.output


@pytest.mark.parametrize("value", ["DLR-99", "stored", ","])
def test_require_checked_refuses_what_names_no_requirement(value: str, tmp_path: Path) -> None:
    """An unknown ID or group is a usage error in one line that lists the groups."""
    done = invoke("--require-checked", value, cwd=tmp_path)
    assert done.code == 4, done.output
    (line,) = [line for line in done.output.splitlines() if "--require-checked" in line]
    assert "must" in line
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    ("variant", "passes"),
    [("only_prepared", False), ("park", True), ("unknown_404", True), ("", True)],
    ids=["drops-unknown", "parks-unknown", "answers-404-to-unknown", "stores-everything"],
)
def test_reports_before_their_message_is_known(
    variant: str, passes: bool, stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """DLR-22: reports for messages not prepared yet, then the messages prepared, then the reports not answered
    200 again. A receiver that answers 200 and drops them fails it alone (a SHOULD: exit 0, with warnings); one
    that parks them until the message is known, or answers 404 so that they come again, passes, and the 404 is
    never a failure of its own."""
    receiver = stateful(variant)
    reports = _run(tmp_path, receiver, *QUICK, prepare=True)
    assert reports.code == 0, reports.output[-3000:]
    state = reports.states()["DLR-22"]
    if passes:
        assert state == "passed", reports.failure_text()[:3000]
        assert not reports.failing_requirements, reports.failure_text()[:3000]
    else:
        assert state == "failed"
        assert reports.failing_requirements == {"DLR-22"}
        assert "early_reports_are_stored" in reports.checks
        text = reports.failure_text()
        assert "A report that came before its message was known was lost" in text
        assert "known, but no status stored" in text
        assert reports.verdict == "conformant_with_warnings"
    if variant == "unknown_404":
        case = reports.testcases()["test_early_reports_are_kept"]
        assert case.find("failure") is None
        assert "404" not in reports.failure_text()


def test_output_files_name_messages_whole_and_show_the_readers_row_apart(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """The JSON summary and the HTML report name a wrongly stored message by its whole id (one can search for it);
    the HTML shows the reader's row under its own heading, with how long the reader took (not a response time)."""
    reports = _run(tmp_path, stateful("last_wins"), *QUICK, "-k", "newest")
    assert reports.code == 1, reports.output[-3000:]
    (finding,) = [f for f in reports.summary["failures"] if f["check"] == "newest_status_wins"][:1]
    assert re.search(r"Received: message \d{20}: stored status ENROUTE", finding["message"]), finding["message"]
    found = re.search(r"Stored row \(the state reader\S*s, read in (\d+\.\d) ms\)", reports.html)  # escaped twice
    assert found is not None
    assert float(found.group(1)) > 0
    assert re.search(r"stored state of message \d{20}\S*\s+\S+\s+the reader returned this row read in \d", reports.html)


def test_a_selection_names_the_related_requirements_it_leaves_unjudged(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """-k DLR-09 delivers retries and out-of-order reports but does not judge DLR-14 and DLR-15 on them: the run
    says so; selected together, DLR-15 judges DLR-09's out-of-order message (a last-arrival-wins store fails it)."""
    receiver = stateful("last_wins")
    alone = _run(tmp_path / "alone", receiver, *QUICK, "-k", "DLR-09")
    assert alone.summary["unjudged_related"] == {"DLR-09": ["DLR-14", "DLR-15"]}
    assert "What DLR-09's deliveries left in the receiver's store is judged by DLR-14, DLR-15, which this" in (
        " ".join(alone.summary["explanation"].split())
    )
    together = _run(tmp_path / "together", receiver, *QUICK, "-k", "DLR-09 or DLR-15")
    assert together.summary["unjudged_related"] == {"DLR-09": ["DLR-14"]}
    assert "DLR-15" in together.failing_requirements
    found = "final status DELIVRD first (a DLR-09 scenario): An older status overwrote the newest one"
    assert found in together.failure_text()


def test_own_words_with_a_status_map_pass(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """A receiver that stores its own coarse words, given its status map: DLR-13..16 and DLR-19 pass, 0 findings."""
    receiver = stateful("words")
    words = write_status_map(tmp_path / "words.json")
    reports = _run(tmp_path, receiver, "--status-map", words, prepare=True)
    assert reports.code == 0, reports.failure_text()[:3000]
    rows = reports.states()
    assert {rows[f"DLR-{i}"] for i in (13, 14, 15, 16, 19)} <= {"passed", "warnings"}, rows
    assert rows["DLR-19"] == "passed"


def test_forgotten_status_fails_only_dlr_19(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """Its own words, DELIVRD forgotten (stored lower-case): DLR-19 fails, naming the status and the word; the
    comparisons of DLR-13..16 relate 'delivrd' to DELIVRD and find nothing else."""
    receiver = stateful("words_forgetful")
    reports = _run(tmp_path, receiver, "--status-map", write_status_map(tmp_path / "words.json"), *QUICK, prepare=True)
    assert reports.code == 1, reports.output[-3000:]
    assert reports.failing_requirements == {"DLR-19"}, reports.failure_text()[:3000]
    assert "every_status_recognised" in reports.checks
    text = reports.failure_text()
    assert (
        "DELIVRD was stored as 'delivrd', which is none of your receiver's words (status map): the receiver does not "
        "recognise DELIVRD"
    ) in text


def test_own_words_without_a_status_map_are_never_a_pass(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Its own words and no map: no stored status relates to a status sent, so DLR-13, 15, 16 fail (pointing to
    --status-map), DLR-14 and DLR-19 are not checked: never passed."""
    reports = _run(tmp_path, stateful("words"), *QUICK)
    assert reports.code == 1, reports.output[-3000:]
    assert reports.failing_requirements == {"DLR-13", "DLR-15", "DLR-16"}, reports.failure_text()[:3000]
    assert "needs --status-map" in reports.failure_text()
    rows = reports.states()
    assert rows["DLR-14"] in NOT_CHECKED
    assert rows["DLR-19"] in NOT_CHECKED
    skipped = reports.testcases()["test_every_status_recognised"].find("skipped")
    assert skipped is not None
    assert "--status-map FILE" in skipped.attrib.get("message", "")


BAD_MAPS = [
    (None, "does not exist"),
    ("{not json", "is not valid JSON"),
    ('["DELIVRD"]', "must hold a JSON object of the receiver's words (got list)"),
    ('{"delivered": "DELIVRD"}', "the word 'delivered' must map to a list of status strings"),
    ('{"delivered": ["DELIVRD"], "done": ["DELIVRD"]}', "the status 'DELIVRD' stands for two words"),
]


@pytest.mark.parametrize(("content", "problem"), BAD_MAPS, ids=["missing", "json", "list", "string", "twice"])
def test_bad_status_map_is_a_usage_error(
    content: str | None, problem: str, stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """A status map that is not one: exit 4, one line naming the file and the problem, nothing sent."""
    path = tmp_path / "map.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    receiver = stateful()
    code, output = run_cli_raw(tmp_path, receiver.url, "--state-cmd", receiver.reader, "--status-map", str(path))
    assert code == 4, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("dlr-conformance: error: --status-map")
    assert problem in lines[0]
    assert receiver.server is not None
    assert not receiver.server.arrivals


def test_counts_are_true_and_name_their_unit(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """A receiver keeping only the first record of a batch loses over a thousand messages: every output counts them
    all, in messages (not deliveries), and says how many are shown; never the display cap as the count."""
    reports = _run(tmp_path, stateful("first_record"), *QUICK)
    assert reports.code == 1, reports.output[-3000:]
    lost = next(c for c in reports.summary["causes"] if c["title"].startswith("A report answered 200 was lost"))
    assert lost["unit"] == "message"
    assert lost["count"] > 1000  # the batches of 150 and 1,000 lose all but their first record
    shown = f"{lost['count']:,} messages (the first 20 shown)"
    assert shown in reports.output
    assert shown in reports.html
    assert "messages stored wrongly" in reports.output


def test_reproduction_scripts_reproduce_on_a_fresh_store(
    stateful: Callable[..., StatefulReceiver], tmp_path: Path
) -> None:
    """Each cause gets a runnable script (its path in the console and the JSON summary): every callback of the
    sequence in arrival order, then the reader. Run against the same receiver with an emptied store, it shows the
    fault again: the older status, lower-cased, stored last."""
    receiver = stateful("lower_last_wins")
    reports = _run(tmp_path, receiver, *QUICK)
    assert reports.code == 1, reports.output[-3000:]
    cause = next(c for c in reports.summary["causes"] if c["checks"] == ["newest_status_wins"])
    script = Path(cause["reproduction"])
    script = script if script.is_absolute() else tmp_path / script
    assert script.name.endswith("-an-older-status-overwrote-the-newest-one.sh")
    assert any(
        line.strip().startswith("reproduce: sh ") and line.endswith(script.name) for line in reports.output.splitlines()
    ), reports.output[-3000:]
    text = script.read_text(encoding="utf-8")
    assert script.name in reports.html  # its text in the HTML causes table
    assert text.count("curl ") >= 2  # the whole sequence, not only the last callback
    assert receiver.reader in text
    db = sqlite3.connect(receiver.db)
    db.execute("DELETE FROM message")
    db.execute("DELETE FROM processed")
    db.commit()
    db.close()
    done = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [row["status"] for row in rows] == ["enroute"], done.stdout


def test_an_example_names_the_scenario_that_sent_it(stateful: Callable[..., StatefulReceiver], tmp_path: Path) -> None:
    """A stored-state finding judges messages every scenario sent: its example says which scenario sent the message,
    never reads as one of the requirement's own cases."""
    reports = _run(tmp_path, stateful("lower"), *QUICK)
    assert reports.code == 1, reports.output[-3000:]
    cases = [f["case"] for f in reports.summary["failures"] if f["requirement"] == "DLR-16"]
    assert any(case.endswith("(a DLR-13 scenario)") for case in cases), cases
    assert not any(case.endswith("(a DLR-16 scenario)") for case in cases), cases  # its own: no suffix
    assert "e.g. DLR-16 batch of 3 records (a DLR-13 scenario):" in reports.output
