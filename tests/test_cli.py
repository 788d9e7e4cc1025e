"""The command's own behaviour: catalogue, version, selection, serve (as a process: Ctrl-C), the exit of a run."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from conformance.generation.cases import documented_example
from conformance.requirements import CATALOGUE
from tests.support.cli import Result, invoke
from tests.support.process import CLI, Process, run
from tests.support.servers import Recorder


def _run(*args: str, cwd: Path) -> Result:
    return invoke(*args, cwd=cwd)


def test_list_checks_prints_the_catalogue(tmp_path: Path) -> None:
    proc = _run("--list-checks", cwd=tmp_path)
    assert proc.code == 0
    for requirement in CATALOGUE:
        assert f"{requirement.id}  {requirement.level:6}  {requirement.title}" in proc.stdout
    assert "check status_code_is_200:" in proc.stdout
    assert "check delivery_answered:" in proc.stdout  # on every delivery: no pass without an answer
    assert "--requirement DLR-04" in proc.stdout  # what the selection options can use
    assert "-k 'DLR-04 or DLR-05'" in proc.stdout
    assert not (tmp_path / "reports").exists()  # nothing was run, nothing written


def test_list_checks_in_a_fresh_interpreter_names_every_check() -> None:
    """The installed command imports only what listing needs: every check a requirement names is registered then
    (a check module nothing else imported yet was once missing)."""
    done = run([CLI, "--list-checks"], timeout=60)
    assert done.code == 0, done.output[-2000:]
    for requirement in CATALOGUE:
        for name in requirement.checks:
            assert f"check {name}:" in done.stdout, name


def test_list_checks_through_the_plugin(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--dlr-list-checks")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["DLR-01  MUST    Every valid callback is answered with exactly 200 OK"])


def test_list_requirements_is_the_name_and_list_checks_the_same(tmp_path: Path) -> None:
    primary = _run("--list-requirements", cwd=tmp_path)
    assert primary.code == 0
    assert primary.stdout == _run("--list-checks", cwd=tmp_path).stdout
    assert "DLR-13" in primary.stdout


def test_version(tmp_path: Path) -> None:
    proc = _run("--version", cwd=tmp_path)
    assert proc.code == 0
    assert proc.stdout.startswith("dlr-conformance ")


def test_a_selection_of_no_check_is_a_usage_error_never_a_verdict_of_conformant(tmp_path: Path) -> None:
    proc = _run("-k", "no_such_check", "--json", str(tmp_path / "s.json"), cwd=tmp_path)
    assert proc.code == 4
    assert "selects no tests" in proc.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["verdict"] == "error"
    assert summary["internal_error"] == "no check ran: the selection matched none"


@pytest.mark.parametrize("source", ["env", "ini"])
def test_target_url_from_environment_or_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """The URL may come from DLR_TARGET_URL or the dlr_target_url ini key; the command line wins over both."""
    from conformance.reference.receiver import ReceiverServer

    server = ReceiverServer().start()
    try:
        unreachable = "http://127.0.0.1:9/never"
        if source == "env":
            monkeypatch.setenv("DLR_TARGET_URL", server.url)
        else:
            pytester.makeini(f"[pytest]\ndlr_target_url = {server.url}\n")
        result = pytester.runpytest("--pyargs", "conformance.suite", "-k", "documented", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=1, deselected=result.parseoutcomes()["deselected"])
        result.stdout.fnmatch_lines([f"dlr-conformance target: {server.url}"])
        overridden = pytester.runpytest(
            "--pyargs", "conformance.suite", "-k", "documented", "--dlr-timeout", "1", "--dlr-target-url", unreachable
        )
        overridden.stdout.fnmatch_lines([f"dlr-conformance target: {unreachable}"])
        assert overridden.ret == 1
    finally:
        server.stop()


def test_serve_stores_each_report_once_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "reports.sqlite3"
    with Process([CLI, "serve", "--port", "0", "--db", db], cwd=tmp_path) as process:
        line = process.wait_for("^reference receiver listening on ", timeout=30)
        assert line.startswith("reference receiver listening on http://127.0.0.1:"), line
        url = line.split()[4]
        answers = [requests.post(url, json=documented_example(), timeout=10).status_code for _ in range(3)]
        assert answers == [200, 200, 200]  # the first delivery and two retries of it
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM report").fetchone() == (1,)
        process.interrupt()
        done = process.wait(10)
    assert done.code == 0
    assert "Traceback" not in done.stderr
    assert "stored 1 of 1 report(s)" in done.stderr
    assert "stored 0 of 1 report(s)" in done.stderr


def test_serve_with_a_port_in_use_is_one_line_and_exit_4(tmp_path: Path) -> None:
    from conformance.reference.receiver import ReceiverServer

    server = ReceiverServer()
    try:
        port = server.server_address[1]
        started = time.monotonic()
        proc = _run("serve", "--port", str(port), "--db", str(tmp_path / "x.sqlite3"), cwd=tmp_path)
        assert time.monotonic() - started < 60
    finally:
        server.server_close()
    assert proc.code == 4
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    from conformance.cli import COMMANDS

    proc = _run("--help", cwd=tmp_path)
    assert proc.code == 0
    for name, (_, text) in COMMANDS.items():
        assert f"dlr-conformance {name}" in proc.stdout
        assert text in proc.stdout


def test_plugin_options_are_namespaced(pytester: pytest.Pytester) -> None:
    """Every plugin option starts with --dlr-, so no other plugin's option (pytest-timeout's --timeout) can clash."""
    result = pytester.runpytest("--help")
    assert result.ret == 0
    text = result.stdout.str()
    assert "--dlr-timeout=S" in text
    assert "--dlr-target-url=URL" in text
    group = text[text.index("dlr-conformance: delivery-report callback conformance") :].split("\n\n")[0]
    options = [line.split()[0] for line in group.splitlines()[1:] if line.strip().startswith("--")]
    assert options
    assert all(option.startswith("--dlr-") for option in options), options


def test_k_selects_by_a_check_named_in_the_catalogue(tmp_path: Path) -> None:
    """--list-checks names checks; -k accepts them: -k payload_matches_contract runs exactly DLR-10's test (whose
    name does not contain the check's)."""
    assert "check payload_matches_contract" in _run("--list-checks", cwd=tmp_path).stdout
    proc = _run("-k", "payload_matches_contract", "--examples", "5", "--json", str(tmp_path / "s.json"), cwd=tmp_path)
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    ran = {row["id"] for row in summary["requirements"] if row["state"] not in {"not run", "not_run"}}
    assert ran == {"DLR-10"}, (ran, proc.stdout[-2000:])
    assert proc.code == 0, proc.stdout[-2000:]


BREAKING_CONFTEST = """
import pytest

raise ImportError("django.core.exceptions.ImproperlyConfigured: settings are not configured")
"""
REPLACING_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def dlr_state_reader():
    return lambda request: [{"message_id": "x", "status": "DELIVRD"}]
"""


@pytest.mark.parametrize("conftest", [BREAKING_CONFTEST, REPLACING_CONFTEST])
def test_run_uses_its_own_configuration_whatever_the_working_directory_holds(
    tmp_path: Path, conftest: str, recorder: Callable[..., Recorder]
) -> None:
    """A project's conftest.py (one that cannot import, one that replaces the reader), its pytest.ini and
    PYTEST_ADDOPTS change nothing: the run is the suite's own."""
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:dlr_conformance --strict-markers\n")
    target = recorder()
    env = {"PYTEST_ADDOPTS": "-x --no-such-option"}
    proc = invoke("--target-url", target.url, "-k", "documented or newest_status", cwd=tmp_path, env=env)
    assert proc.code == 0, proc.stdout + proc.stderr
    assert "ImportError" not in proc.stdout + proc.stderr
    assert len(target.bodies) == 1  # the documented example; the stored-state check not run without a reader
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert "fixture dlr_state_reader" not in summary["stored_state"]
