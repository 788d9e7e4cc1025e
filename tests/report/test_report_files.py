"""The report files themselves: self-contained, free of the customer's secrets, and of modest size."""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the fixtures' types
    from tests.report.conftest import SecretRun
    from tests.support.runs import SuiteRun

MAX_HTML_BYTES = 500_000  # measured: about 55 kB for 1,000 passing generated payloads, 125 kB when they fail


def embedded_tests(run: SuiteRun) -> dict[str, Any]:
    """pytest-html's JSON blob: the data its script renders the results table from."""
    blob = re.search(r'data-jsonblob="([^"]*)"', run.html_path.read_text(encoding="utf-8"))
    assert blob is not None, "the HTML report has no data-jsonblob"
    tests: dict[str, Any] = json.loads(html.unescape(blob.group(1)))["tests"]
    return tests


def test_the_html_report_is_self_contained(passing_run: SuiteRun) -> None:
    text = passing_run.html_path.read_text(encoding="utf-8")
    assert not re.search(r"<link[^>]+stylesheet", text)
    assert not re.search(r"""\bsrc=["']?(?:https?:)?//""", text)
    assert sorted(p.name for p in passing_run.html_path.parent.iterdir()) == [
        "junit.xml",
        "report.html",
        "summary.json",
    ]


def test_no_report_shows_a_secret_the_receiver_echoed(secret_run: SecretRun) -> None:
    assert secret_run.echoed  # the receiver did repeat the URL token and the bearer token ...
    assert all(secret in "".join(secret_run.echoed) for secret in secret_run.secrets)
    for name, text in secret_run.run.texts().items():
        for secret in secret_run.secrets:
            assert secret not in text, f"{name} shows a secret"  # ... and no report shows them
    summary = secret_run.run.summary
    assert summary["target"].endswith("/callback?token=***")  # the value masked, the parameter's name kept
    curls = [e["curl"] for cause in summary["causes"] for e in cause["examples"]]
    assert curls
    assert all("/callback?token=***" in curl and "Authorization: ***" in curl for curl in curls)
    assert "put each value back" in summary["secrets"]  # said once: how to make a reproduction run
    assert "put each value back" in secret_run.run.output


def test_a_thousand_generated_payloads_make_one_row_of_modest_size(thousand_generated: SuiteRun) -> None:
    summary = thousand_generated.summary
    assert summary["requests_sent"] >= 1000
    tests = embedded_tests(thousand_generated)
    assert len(tests) == 1  # one row, whatever the number of examples
    (row,) = next(iter(tests.values()))
    evidence = "".join(extra["content"] for extra in row["extras"])
    assert "1000 deliveries" in evidence
    assert evidence.count('class="dlr-exchange') <= 3  # a few samples, not one block per payload
    size = thousand_generated.html_path.stat().st_size
    assert size < MAX_HTML_BYTES, f"report.html is {size} bytes for 1,000 generated payloads"


def test_rows_sit_in_pytest_html_data_with_the_requirement(failing_run: SuiteRun) -> None:
    tests = embedded_tests(failing_run)
    assert len(tests) == sum(failing_run.summary["tests"].values())
    rows = [entry for entries in tests.values() for entry in entries]
    assert {row["requirement"] for row in rows} == {r["id"] for r in failing_run.summary["requirements"]}
