"""What the faces share besides judging: one options table, one verdict vocabulary with its exit codes, one JUnit
writer, one atomic writer, one start of the embedded receiver. In-process: the parsers, the verdict rules and
the writers are plain code."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import options as opts
from conformance.cli import load, send
from conformance.engine.store import CommandReader, probe
from conformance.load import outputs
from conformance.options import ExitCode
from conformance.reference.embedded import EmbeddedReceiver
from conformance.reporting import files, junit
from conformance.reporting.verdict import Verdict
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


@pytest.mark.parametrize("face", ["send", "load"])
def test_a_bad_value_is_the_same_usage_error(face: str) -> None:
    done = invoke(face, "--timeout", "0")
    assert done.code == ExitCode.USAGE
    assert "--timeout must be a number greater than 0 (got '0'), e.g. 10 or 0.5." in done.stderr
    done = invoke(face, env={opts.ENV_TARGET_URL: "ftp://y"})
    assert done.code == ExitCode.USAGE
    assert "the DLR_TARGET_URL environment variable must start with http:// or https:// (got 'ftp://y')" in (
        done.stderr
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


def _load_result(verdict: str) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "explanation": f"because {verdict} <&>",
        "run_id": "abcd1234",
        "rate_target": 10.0,
        "mode": "constant",
        "duration_s": 3.0,
        "answers": {"200 OK": 9, "503 Service Unavailable": 1},
        "state": {"requirements": [{"id": "R-1", "status": "failed", "evidence": [{"text": "m1 lost"}]}]},
    }


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
    assert properties == {"run_id": "abcd1234", "R-1": "failed"}
    found = [child.tag for child in case if child.tag != "properties"]
    assert found == ([element] if element else [])
    if element:
        assert case.find(element).get("message") == f"because {verdict} <&>"  # type: ignore[union-attr]
    assert suite.get("failures") == str(int(element == "failure"))
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["verdict"] == verdict


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
