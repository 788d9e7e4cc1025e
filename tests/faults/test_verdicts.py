"""How the verdict weighs what was found: MUST against SHOULD, --strict, partial runs, selection by requirement.

Each test runs the command in-process (or the plugin through pytester) against a real receiver on 127.0.0.1.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import faults as r
from tests.support.cli import invoke
from tests.support.receivers import CorrectWsgiReceiver
from tests.support.runs import FAST, UNHURRIED, run_pytester, run_suite
from tests.support.servers import Served

SHOULD_ONLY = "unknown-top-level-field or documented-example"  # a SHOULD case and a MUST one


def test_a_failed_should_is_a_warning_shown_as_a_failed_recommendation(
    served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """A receiver failing only a SHOULD requirement works with the platform today: exit 0, with warnings."""
    receiver = served(r.ForbidsExtraTopLevelFields())
    reports = run_suite(tmp_path, receiver.url, *FAST, *UNHURRIED, "-k", SHOULD_ONLY)
    assert (reports.code, reports.verdict) == (0, "conformant_with_warnings"), reports.output[-3000:]
    assert reports.summary["strict"] is False
    assert reports.states()["DLR-06"] == "failed"
    assert reports.states()["DLR-02"] == "passed"
    assert [f["level"] for f in reports.failures] == ["SHOULD"]
    assert reports.warnings == []  # a failed recommendation, apart from the (latency) warnings
    assert "Failed recommendations (SHOULD)" in reports.output
    assert "Received: 422" in reports.output  # with its evidence
    assert "DLR-06 SHOULD failed (SHOULD)" in reports.output
    assert "1 recommendation (SHOULD) failed: DLR-06." in reports.summary["explanation"]
    assert "Failed recommendations (SHOULD)" in reports.html


def test_strict_fails_the_run_on_a_failed_should(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """``--strict``: the same receiver is not conformant, exit 1, and every report records it."""
    receiver = served(r.ForbidsExtraTopLevelFields())
    reports = run_suite(tmp_path, receiver.url, *FAST, "-k", SHOULD_ONLY, "--strict")
    assert (reports.code, reports.verdict) == (1, "not_conformant"), reports.output[-3000:]
    assert reports.summary["strict"] is True
    assert reports.summary["options"]["strict"] is True
    assert "--strict" in reports.summary["explanation"]
    properties = {p.get("name"): p.get("value") for p in reports.junit.iter("property")}
    assert properties["dlr-conformance.strict"] == "true"
    assert 'data-strict="true"' in reports.html


def test_strict_fails_the_run_on_a_warning(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """A slow answer is a warning: allowed, except under ``--strict``."""
    receiver = served(r.SlowOn(0.6))
    args = ("-k", "documented-example", "--latency-budget", "0.2", "--timeout", "5")
    relaxed = run_suite(tmp_path / "relaxed", receiver.url, *FAST, *args)
    assert (relaxed.code, relaxed.verdict) == (0, "conformant_with_warnings"), relaxed.output[-3000:]
    strict = run_suite(tmp_path / "strict", receiver.url, *FAST, *args, "--strict")
    assert (strict.code, strict.verdict) == (1, "not_conformant"), strict.output[-3000:]
    assert strict.failures == []
    assert [w["check"] for w in strict.warnings] == ["latency_within_budget"]


def test_strict_from_the_plugin_flag_and_the_ini_key(
    pytester: pytest.Pytester, served: Callable[[Any], Served]
) -> None:
    """The plugin spells it ``--dlr-strict``; ``dlr_strict = true`` in the ini does the same."""
    receiver = served(r.ForbidsExtraTopLevelFields())
    result, reports = run_pytester(pytester, receiver.url, *FAST, "-k", SHOULD_ONLY)
    assert (result.ret, reports.verdict) == (0, "conformant_with_warnings")
    result, reports = run_pytester(pytester, receiver.url, *FAST, "-k", SHOULD_ONLY, "--strict")
    assert (result.ret, reports.verdict) == (1, "not_conformant")
    pytester.makeini("[pytest]\ndlr_strict = true\n")
    result, reports = run_pytester(pytester, receiver.url, *FAST, "-k", SHOULD_ONLY)
    assert (result.ret, reports.verdict, reports.summary["strict"]) == (1, "not_conformant", True)


def test_a_partial_run_says_so_everywhere(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """``-k documented``: conformant for what ran, but PARTIAL; selection recorded, unrun requirements listed."""
    receiver = served(CorrectWsgiReceiver())
    reports = run_suite(tmp_path, receiver.url, *FAST, *UNHURRIED, "-k", "documented")
    assert (reports.code, reports.verdict) == (0, "conformant"), reports.output[-3000:]
    summary = reports.summary
    assert summary["complete"] is False
    assert summary["banner"] == "CONFORMANT (PARTIAL)"
    assert summary["options"]["selection"] == "-k 'documented'"
    states = reports.states()
    assert states.pop("DLR-02") == "passed"
    assert set(states.values()) == {"not_run"}
    assert sorted(summary["not_run"]) == sorted(states)
    assert "PARTIAL run (-k 'documented')" in summary["explanation"]
    assert "verdict: CONFORMANT (PARTIAL)" in reports.output
    assert 'data-complete="false"' in reports.html
    assert "dlr-partial" in reports.html  # not the green of a full pass
    properties = {p.get("name"): p.get("value") for p in reports.junit.iter("property")}
    assert properties["dlr-conformance.complete"] == "false"
    assert "selection -k 'documented'" in str(properties["dlr-conformance.options"])


def test_select_by_requirement_with_k_and_with_requirement(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """``-k DLR-04`` works inside any expression; ``--requirement`` selects exactly; an unknown ID is a usage error."""
    receiver = served(CorrectWsgiReceiver())
    by_k = run_suite(tmp_path / "k", receiver.url, *FAST, "-k", "DLR-04 or DLR-05")
    ran = {row["id"] for row in by_k.summary["requirements"] if row["state"] != "not_run"}
    assert ran == {"DLR-04", "DLR-05"}, by_k.output[-3000:]
    by_option = run_suite(tmp_path / "opt", receiver.url, *FAST, "--requirement", "DLR-18", "--requirement", "dlr-6")
    ran = {row["id"] for row in by_option.summary["requirements"] if row["state"] != "not_run"}
    assert ran == {"DLR-18", "DLR-06"}, by_option.output[-3000:]
    assert by_option.summary["options"]["requirements"] == ["DLR-18", "DLR-06"]
    assert by_option.summary["complete"] is False
    done = invoke("--requirement", "DLR-99", cwd=tmp_path)
    assert done.code == 4
    assert "--requirement must be a requirement ID of the catalogue (got 'DLR-99')" in done.stderr
    assert "Traceback" not in done.stderr


def test_rate_capped_capacity_is_not_checked(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """Under ``--max-rps`` capacity cannot be judged: not checked, with the cap as the reason, recorded in reports."""
    receiver = served(r.RateLimited(limit=120, window=60))  # fails capacity when unthrottled
    args = ("-k", "capacity or documented-example", "--max-rps", "50")
    reports = run_suite(tmp_path, receiver.url, *FAST, *UNHURRIED, *args)
    assert (reports.code, reports.verdict) == (0, "conformant"), reports.output[-3000:]
    row = next(row for row in reports.summary["requirements"] if row["id"] == "DLR-11")
    assert row["state"] == "not_checked"
    assert "rate-capped at 50/s" in row["reason"]
    assert reports.summary["options"]["max_rps"] == 50
    assert "rate cap 50/s" in reports.output


def test_load_scenarios_run_last_and_the_certificate_first(served: Callable[[Any], Served], tmp_path: Path) -> None:
    """A receiver's rate limiter must not turn the other requirements red: the burst and the stream run after the
    others, and only the look at every error answer of the run comes after them (it judges what they got too)."""
    receiver = served(CorrectWsgiReceiver())
    reports = run_suite(tmp_path, receiver.url, *FAST, "-k", "not DLR-10")  # all but the generated test
    order = [case.get("classname") for case in reports.junit.iter("testcase")]
    assert order[0] == "DLR-12"
    assert order[-3:] == ["DLR-11", "DLR-11", "DLR-21"]
    assert "DLR-11" not in order[:-3]


def test_one_cause_is_shown_once_and_the_verdict_comes_last(tmp_path: Path, served: Callable[[Any], Served]) -> None:
    """A 202 to everything: one cause with its count and requirements; the console ends with table and verdict;
    ``-q`` prints less."""
    receiver = served(r.success_other_than_200(202))
    full = run_suite(tmp_path / "full", receiver.url, *FAST)
    lines = full.output.rstrip().splitlines()
    assert full.output.count("Answered with a success status other than 200 [202]") == 1
    verdict_at = next(i for i, line in enumerate(lines) if line.startswith("verdict: NOT CONFORMANT"))
    table_at = lines.index("By requirement:")
    assert table_at < verdict_at
    assert all(line.startswith("  ") for line in lines[verdict_at + 1 :])  # only the explanation follows
    assert "FAILED" not in full.output  # no per-test failure lines: each cause once
    assert "curl " in full.output
    quiet = run_suite(tmp_path / "quiet", receiver.url, *FAST, "-q")
    assert quiet.verdict == "not_conformant"
    assert len(quiet.output.splitlines()) < len(lines)
    assert "verdict: NOT CONFORMANT" in quiet.output
    root = ET.fromstring(full.junit_path.read_text(encoding="utf-8"))
    assert root.find("testsuite") is not None
