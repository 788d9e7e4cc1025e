"""What the faces share besides judging: one options table, one verdict vocabulary with its exit codes, one JUnit
writer, one atomic writer, one start of the embedded receiver. In-process: the parsers, the verdict rules and
the writers are plain code."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import options as opts
from conformance.checks.stored import Problem
from conformance.cli import load, send
from conformance.engine.store import CommandReader, probe
from conformance.load import outputs
from conformance.load.stored import Judged, StoredResult
from conformance.options import ExitCode
from conformance.reference.embedded import EmbeddedReceiver
from conformance.reporting import files, junit
from conformance.reporting.verdict import Verdict
from conformance.requirements import by_key
from tests.support.cli import invoke

SHARED = (opts.TARGET_URL, opts.TIMEOUT, opts.HEADER, opts.CA_BUNDLE, opts.STATE_CMD)


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


@pytest.mark.parametrize("face", [send, load], ids=["send", "load"])
@pytest.mark.parametrize("option", SHARED, ids=lambda o: o.flags[0])
def test_send_and_load_take_the_suites_option(face: Any, option: opts.Option) -> None:
    action = _actions(face._parser())[option.flags[0]]
    assert action.type is option.type
    assert action.dest == option.dest
    assert action.default == option.default
    assert action.metavar == option.metavar
    # the same help, but for the ini key (no ini file here) and what the command does without it
    assert action.help is not None
    assert action.help.startswith(option.help_text(ini=False, otherwise=""))


@pytest.mark.parametrize("face", [send, load], ids=["send", "load"])
def test_a_bad_value_is_the_same_usage_error(face: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name = face.__name__.rsplit(".", 1)[-1]
    bad = invoke(name, "--timeout", "0")
    assert bad.code == ExitCode.USAGE
    assert "--timeout must be a number greater than 0 (got '0'), e.g. 10 or 0.5." in bad.stderr
    # the environment variable, read as the suite reads it (the in-process runner keeps DLR_ variables out)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(opts.ENV_TARGET_URL, "ftp://y")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = face.main(["--duration", "1s"] if name == "load" else [])
    assert code == ExitCode.USAGE
    assert "the DLR_TARGET_URL environment variable must start with http:// or https:// (got 'ftp://y')" in (
        err.getvalue()
    )


def test_every_verdict_has_one_exit_code() -> None:
    assert {v: v.exit_code for v in Verdict} == {
        Verdict.CONFORMANT: 0,
        Verdict.CONFORMANT_WITH_WARNINGS: 0,
        Verdict.HELD: 0,
        Verdict.NOT_CONFORMANT: 1,
        Verdict.NOT_HELD: 1,
        Verdict.INTERRUPTED: 2,
        Verdict.ERROR: 3,
    }
    assert Verdict.NOT_HELD.text == "NOT HELD"
    assert json.dumps({"verdict": Verdict.CONFORMANT_WITH_WARNINGS}) == '{"verdict": "conformant_with_warnings"}'


def _load_result(verdict: str) -> outputs.LoadResult:
    result = outputs.LoadResult(
        target="http://127.0.0.1:1/dlr",
        run_id="abcd1234",
        started="2026-01-01T00:00:00+00:00",
        duration_s=3.0,
        mode="constant",
        rate_target=10.0,
        rate_achieved=10.0,
        requests_sent=10,
        cut_at_end=0,
        failed=1,
        timeout_s=10.0,
        latency_s={"p50": 0.001, "p95": 0.002, "p99": 0.002, "max": 0.003},
        answers={"200 OK": 9, "503 Service Unavailable": 1},
        first_failure_after_s=1.0,
        steps=[outputs.Step(10.0, 2, 20, 1, 10.0, False)],
        highest_rate_held=None,
        delivery_reports=15,
        retries=0,
        final_statuses={"DELIVRD": 4},
        worker_processes=1,
        timeline=[{"second": 0, "ok": 9, "failed": 1}],
        verdict=Verdict(verdict),
        explanation=f"because {verdict} <&>",
    )
    problem = Problem("m1", "m1 lost")
    result.stored = StoredResult(1, 0, 1, 0.1, [Judged(by_key("nothing_lost").id, "failed", 1, [problem])])
    return result


def test_the_load_result_reads_back_what_the_locust_process_wrote() -> None:
    result = _load_result("not_held")
    result.stored = None
    document = json.loads(json.dumps(result.as_json()))
    assert outputs.LoadResult.from_json(document) == result
    assert list(document)[-3:] == ["timeline", "verdict", "explanation"]


@pytest.mark.parametrize(
    ("verdict", "element"), [("held", None), ("not_held", "failure"), ("not_conformant", "failure"), ("error", "error")]
)
def test_the_load_writes_its_junit_file_with_the_suites_writer(tmp_path: Path, verdict: str, element: str) -> None:
    outputs.write(_load_result(verdict), str(tmp_path / "s.json"), str(tmp_path / "j.xml"))
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None
    case = suite.find("testcase")
    assert case is not None
    assert case.get("name") == "holds 10 callbacks/s"
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {"run_id": "abcd1234", by_key("nothing_lost").id: "failed"}
    found = [child.tag for child in case if child.tag != "properties"]
    assert found == ([element] if element else [])
    if element:
        assert case.find(element).get("message") == f"because {verdict} <&>"  # type: ignore[union-attr]
    assert suite.get("failures") == str(int(element == "failure"))
    written = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert written["verdict"] == verdict
    assert written["state"]["requirements"][0]["evidence"][0]["text"] == "m1 lost"


def test_one_junit_writer_escapes_as_pytest_does() -> None:
    text = junit.render(
        junit.Suite(
            "s",
            [junit.Case("DLR-01", "t[x]", 0.5, [("requirement", "DLR-01")], "failure", "bad\x07 one", "all of it")],
            [("k", "v\x00")],
        )
    )
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="s" errors="0"')
    assert '<failure message="bad#x07 one">all of it</failure>' in text
    assert '<property name="k" value="v#x00" />' in text
    assert 'failures="1" skipped="0" tests="1" time="0.000"' in text
    assert junit.shorten("x\n" * 400).endswith("[+150 more lines; full report in element text]")


def test_a_report_file_is_whole_or_absent(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "summary.json"
    files.write_json(target, {"a": "é"})
    assert target.read_text(encoding="utf-8") == '{\n  "a": "é"\n}\n'
    assert not list(target.parent.glob("*.tmp"))


def test_the_embedded_receiver_and_its_reader_start_and_go_together() -> None:
    receiver = EmbeddedReceiver(prefix="dlr-engine-test-")
    try:
        assert receiver.url.startswith("http://127.0.0.1:")
        assert receiver.scratch.is_dir()
        probe(CommandReader(receiver.reader, 30), "run")  # its reader reads its database
    finally:
        receiver.stop()
    assert not receiver.scratch.exists()
