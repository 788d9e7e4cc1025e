"""The HTML report as a customer sees it: opened in headless Chromium, after pytest-html's script has run."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixtures' types
    from tests.report.conftest import Hostile, Node
    from tests.support.runs import SuiteRun

pytestmark = pytest.mark.browser

DOCUMENTED = "DLR-02 documented-example"  # requirement and case: the name a user reads, never an installed path


def test_rows_exist_only_after_the_script_ran(passing_run: SuiteRun, passing_page: Node) -> None:
    raw = passing_run.html_path.read_text(encoding="utf-8")
    assert '<td class="col-testId">' not in raw  # in the file the rows are an escaped JSON blob ...
    tests = [row.test for row in passing_page.result_rows()]
    assert DOCUMENTED in tests  # ... in the browser, a table
    assert not [name for name in tests if "site-packages" in name or ".py::" in name]


def test_passing_report_shows_the_verdict_facts_and_requirements(passing_run: SuiteRun, passing_page: Node) -> None:
    summary = passing_run.summary
    verdict = passing_page.find(id="dlr-verdict")
    assert verdict.attrs["data-verdict"] == "conformant"
    assert verdict.find(cls="dlr-verdict-word").text() == (
        "CONFORMANT (not checked: DLR-12: the target URL is http://; DLR-19: no status map was given)"
    )
    facts = {row.find("th").text(): row.find("td").text() for row in passing_page.find(id="dlr-facts").find_all("tr")}
    assert facts["Seed"] == "12345"
    assert facts["Run id"] == summary["run_id"]
    assert facts["Requests sent"] == f"{summary['requests_sent']} of {summary['requests_planned']} planned"
    assert facts["Coverage"].startswith("complete")
    assert "not strict" in facts["Options"]
    assert re.fullmatch(r"[\d.]+ ms / [\d.]+ ms / [\d.]+ ms", facts["Latency p50 / p95 / max"])
    assert facts["Tool"].startswith("dlr-conformance ")
    assert facts["Target"].startswith(summary["target"])
    rows = passing_page.find(id="dlr-requirements").find("tbody").find_all("tr")
    shown = {row.attrs["data-requirement"]: row.find_all("td")[-1].text() for row in rows}
    assert shown == {r["id"]: r["shown"].upper() for r in summary["requirements"]}
    assert shown["DLR-01"] == "PASSED"
    assert shown["DLR-12"] == "NOT CHECKED"
    assert passing_page.find_all(id="dlr-failures") == []
    assert passing_page.find_all(id="dlr-recommendations") == []


def test_passing_report_rows_carry_requirement_and_evidence(passing_run: SuiteRun, passing_page: Node) -> None:
    rows = passing_page.result_rows()
    tests = passing_run.summary["tests"]
    assert len(rows) == sum(tests.values())
    assert sum(row.result == "Passed" for row in rows) == tests["passed"]
    by_test = {row.test: row for row in rows}
    row = by_test[DOCUMENTED]
    assert (row.result, row.requirement) == ("Passed", "DLR-02")
    exchange = row.body.find("details", cls="dlr-exchange")
    assert "200 OK" in exchange.find("summary").text()
    assert '"api_job_id"' in exchange.find("pre", cls="dlr-request").text()
    assert exchange.find("pre", cls="dlr-response").text().startswith("HTTP 200 OK")
    assert exchange.find_all("pre", cls="dlr-curl") == []  # a reproduction only for a failure
    generated = next(r for r in rows if "generated" in r.test)
    assert generated.requirement == "DLR-10"
    assert "30 deliveries" in generated.body.find(cls="dlr-evidence").text()


def test_failing_report_shows_the_verdict_and_failed_requirements(failing_run: SuiteRun, failing_page: Node) -> None:
    assert failing_run.code == 1
    verdict = failing_page.find(id="dlr-verdict")
    assert (verdict.attrs["data-verdict"], verdict.find(cls="dlr-verdict-word").text()) == (
        "not_conformant",
        "NOT CONFORMANT (not checked: DLR-12: the target URL is http://; DLR-13..16, DLR-19: no state reader was "
        "given)",
    )
    assert "DLR-01" in verdict.text()
    rows = failing_page.find(id="dlr-requirements").find("tbody").find_all("tr")
    states = {row.attrs["data-requirement"]: row.find_all("td")[-1].text() for row in rows}
    assert states["DLR-01"] == "FAILED (MUST)"
    assert states["DLR-06"] == "FAILED (SHOULD)"
    assert states["DLR-12"] == "NOT CHECKED"  # http:// target: no certificate
    problems = failing_page.find(id="dlr-failures")
    assert "Answered with a success status other than 200" in problems.text()
    assert "Received: 202 Accepted" in problems.text()
    assert len(problems.find("tbody").find_all("tr")) == 1  # one root cause, shown once


def test_failing_row_has_the_evidence_and_a_curl_that_reproduces_it(
    failing_run: SuiteRun, failing_page: Node, hostile: Hostile
) -> None:
    rows = {row.test: row for row in failing_page.result_rows()}
    row = rows[DOCUMENTED]
    assert (row.result, row.requirement) == ("Failed", "DLR-02")
    exchange = row.body.find("details", cls="dlr-ex-failed")
    assert "open" in exchange.attrs
    assert "Answered with a success status other than 200" in exchange.find("ul", cls="dlr-problems").text()
    request = exchange.find("pre", cls="dlr-request").text()
    assert json.loads(request)["data"]
    response = exchange.find("pre", cls="dlr-response").text()
    assert response.startswith("HTTP 202 Accepted")
    assert f"X-Hostile: {hostile.header}" in response
    assert response.endswith(hostile.body)
    curl = exchange.find("pre", cls="dlr-curl").text()
    assert curl.startswith("curl ")
    assert "--data-binary" in curl
    assert curl.endswith(failing_run.target)
    assert json.loads(curl.split("--data-binary ", 1)[1].rsplit(" ", 1)[0].strip("'")) == json.loads(request)


def test_evidence_of_a_burst_is_capped(failing_run: SuiteRun, failing_page: Node) -> None:
    burst = next(row for row in failing_page.result_rows() if "burst" in row.test)
    assert burst.result == "Failed"
    assert "30 deliveries" in burst.body.find(cls="dlr-evidence").text()
    assert len(burst.body.find_all("details", cls="dlr-exchange")) == 20  # every failure up to the cap, not 30


def test_a_hostile_response_is_shown_as_text_and_never_runs(failing_page: Node, hostile: Hostile) -> None:
    html = failing_page.find("html")
    assert "data-pwned" not in html.attrs  # neither the <script> nor an onerror handler ran
    scripts = failing_page.find_all("script")
    assert len(scripts) == 1  # pytest-html's own
    assert "document.documentElement.setAttribute" not in scripts[0].text()
    handlers = {(n.tag, k) for n in failing_page.find_all() for k in n.attrs if k.startswith("on")}
    assert handlers <= {("div", "onclick")}  # pytest-html's reload button only
    assert [n for n in failing_page.find_all("img") if n.attrs.get("src") == "x"] == []
    answers = [pre.text() for pre in failing_page.find_all("pre", cls="dlr-response")]
    answered = [text for text in answers if text.startswith("HTTP 202")]
    assert len(answered) > 50
    assert all(text.endswith(hostile.body) for text in answered)


def test_the_injection_detector_works(render: Callable[[Path], Node], hostile: Hostile, tmp_path: Path) -> None:
    """Inserted as markup the way pytest-html inserts rows, the hostile body marks the page: the test above can fail."""
    page = tmp_path / "unsafe.html"
    page.write_text(
        f'<html><body><div id="x" data-blob="{html.escape(hostile.body)}"></div><script>'
        "const x = document.getElementById('x'); x.innerHTML = x.dataset.blob</script></body></html>",
        encoding="utf-8",
    )
    assert render(page).find("html").attrs.get("data-pwned") == "img"


def test_environment_table_holds_the_facts_known_before_the_run(passing_page: Node) -> None:
    environment = passing_page.find("table", id="environment")
    assert "Run id" in environment.text()  # the facts known before the run are there too, escaped
    assert "Requests sent" not in environment.text()  # but not figures that are only known at the end
    assert environment.find_all("script") == []


def test_the_api_job_ids_are_listed_for_purging(passing_run: SuiteRun, passing_page: Node) -> None:
    summary = passing_run.summary
    section = passing_page.find(id="dlr-test-data")
    assert summary["run_id"] in section.text()
    listed = section.find(id="dlr-api-job-ids").find("pre").text().splitlines()
    assert listed == summary["api_job_ids"]
    assert any(i.startswith(f"dlrc-{summary['run_id']}-") for i in listed)


def test_a_large_body_is_reproduced_from_a_file_beside_the_reports(failing_run: SuiteRun, failing_page: Node) -> None:
    """The 150- and 1,000-record batches: the curl reads the body from a file, so it runs as printed, never cut."""
    rows = {row.test: row for row in failing_page.result_rows()}
    for case in ("large-batch-of-150-records", "batch-of-1000-records"):
        exchange = rows[f"DLR-07 {case}"].body.find("details", cls="dlr-ex-failed")
        curl = exchange.find("pre", cls="dlr-curl").text()
        match = re.search(r"--data-binary @(\S+) ", curl)
        assert match, curl
        body = json.loads((failing_run.html_path.parent.parent / match.group(1)).read_text(encoding="utf-8"))
        assert len(body["data"]) == (150 if "150" in case else 1000)
        assert len(curl) < 1000
    assert failing_page.find_all("pre", cls="dlr-curl-cut") == []


def test_a_failed_should_reads_as_warnings_with_its_evidence(should_run: SuiteRun, should_page: Node) -> None:
    """Only a SHOULD failed: CONFORMANT WITH WARNINGS, the failed recommendation shown apart, with what came back."""
    assert should_run.code == 0, should_run.output[-3000:]
    verdict = should_page.find(id="dlr-verdict")
    assert verdict.attrs["data-verdict"] == "conformant_with_warnings"
    assert verdict.find(cls="dlr-verdict-word").text().startswith("CONFORMANT WITH WARNINGS (not checked: ")
    assert "dlr-partial" not in verdict.classes
    assert "DLR-06" in verdict.text()
    rows = should_page.find(id="dlr-requirements").find("tbody").find_all("tr")
    states = {row.attrs["data-requirement"]: row.find_all("td")[-1].text() for row in rows}
    assert states["DLR-06"] == "FAILED (SHOULD)"
    assert states["DLR-02"] == "PASSED"
    assert should_page.find_all(id="dlr-failures") == []  # no MUST failure
    recommendation = should_page.find(id="dlr-recommendations").text()
    assert "Received: 422" in recommendation
    assert "curl " in recommendation
    row = {r.test: r for r in should_page.result_rows()}["DLR-06 unknown-top-level-field"]
    assert row.result == "Failed"
    assert "extra fields not permitted" in row.body.find("pre", cls="dlr-response").text()


def test_a_partial_run_never_shows_the_green_of_a_full_pass(partial_run: SuiteRun, partial_page: Node) -> None:
    """``-k documented``: PARTIAL in the banner, striped, the unrun requirements shown as not run."""
    assert partial_run.code == 0, partial_run.output[-3000:]
    verdict = partial_page.find(id="dlr-verdict")
    assert (verdict.attrs["data-verdict"], verdict.attrs["data-complete"]) == ("conformant", "false")
    assert verdict.find(cls="dlr-verdict-word").text() == "CONFORMANT (PARTIAL)"
    assert "dlr-partial" in verdict.classes
    assert "PARTIAL run (-k 'documented')" in verdict.text()
    rows = partial_page.find(id="dlr-requirements").find("tbody").find_all("tr")
    states = {row.attrs["data-requirement"]: row.find_all("td")[-1].text() for row in rows}
    assert states.pop("DLR-02") == "PASSED"
    assert set(states.values()) == {"NOT RUN"}
    facts = {row.find("th").text(): row.find("td").text() for row in partial_page.find(id="dlr-facts").find_all("tr")}
    assert facts["Coverage"] == "PARTIAL: -k 'documented'"
