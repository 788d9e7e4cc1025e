"""The receiver's security through the CLI: forged callbacks (DLR-20), error answers that show internals (DLR-21),
values built into SQL by concatenation (DLR-17), and the security note of a run without credentials.

Each receiver is served on 127.0.0.1 and judged by a run of ``dlr-conformance`` in-process; the faulty ones fail
exactly their requirement, the guarded correct ones pass with no finding at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conformance.delivery import credentials
from conformance.reporting.summary import SECURITY_NOTE
from tests.support import faults as r
from tests.support.cli import invoke
from tests.support.fault_table import NOT_GENERATED
from tests.support.receivers import CorrectWsgiReceiver
from tests.support.runs import FAST, SuiteRun, run_pytester, run_suite
from tests.support.servers import Recorder, Served

SECURITY = ("-k", "DLR-20 or DLR-21 or documented")


def _outputs(run: SuiteRun) -> dict[str, str]:
    return {
        "console": run.output,
        "HTML": run.html,
        "JSON": run.json_path.read_text(encoding="utf-8"),
        "JUnit": run.junit_path.read_text(encoding="utf-8"),
    }


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(
            CorrectWsgiReceiver,
            ("Accepted a forged callback", "forged: no credential at all", "forged: the query parameter token altered"),
            id="no-credential-check",
        ),
        pytest.param(
            r.TokenPresenceOnly,
            ("Accepted a forged callback", "forged: the query parameter token altered"),
            id="presence",
        ),
    ],
)
def test_receiver_taking_forged_callbacks_fails_dlr20(
    make: Callable[[], Any], says: tuple[str, ...], served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """A receiver given a token that takes callbacks without it, or with any token, fails DLR-20 (a SHOULD: exit 0,
    conformant with warnings), and the failures name the forgery it took."""
    url = served(make()).url + f"?token={r.TOKEN}"
    run = run_suite(tmp_path, url, *FAST, *SECURITY)
    assert run.code == 0, run.output[-3000:]
    assert run.verdict == "conformant_with_warnings"
    assert run.failing_requirements == {"DLR-20"}, run.failure_text()[:3000]
    assert "forged_callback_refused" in run.checks
    text = run.failure_text()
    for words in says:
        assert words in text, f"{words!r} not in:\n{text[:3000]}"
    if make is r.TokenPresenceOnly:  # the forgery without a token was refused: only the altered one is a finding
        assert "forged: no credential at all" not in text
    assert not any(SECURITY_NOTE in text for text in _outputs(run).values())
    assert run_suite(tmp_path / "strict", url, *FAST, *SECURITY, "--strict").code == 1


GUARDED = [
    pytest.param(
        r.TokenInUrl, lambda url: (url + f"?tenant=acme&token={r.TOKEN}", "--public-param", "tenant"), id="token"
    ),
    pytest.param(r.BasicAuth, lambda url: (url.replace("//", f"//{r.USER}:{quote(r.PASSWORD)}@"),), id="basic"),
    pytest.param(r.ApiKeyHeader, lambda url: (url, "--header", f"X-Api-Key: {r.API_KEY}"), id="api-key"),
]


@pytest.mark.parametrize(("make", "given"), GUARDED)
def test_guarded_receiver_passes_with_no_finding(
    make: Callable[[], Any], given: Callable[[str], tuple[str, ...]], served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """A receiver behind a URL token, Basic auth or an API-key header passes every requirement it is judged on, no
    failure and no warning, and carries no security note; its credentials appear in no output."""
    url, *args = given(served(make()).url)
    run = run_suite(tmp_path, url, *FAST, "-k", NOT_GENERATED, *args)
    assert run.code == 0, run.output[-3000:]
    assert run.verdict == "conformant", run.failure_text()[:3000]
    assert run.summary["failure_count"] == 0
    assert run.summary["warning_count"] == 0
    states = run.states()
    assert states["DLR-20"] == "passed"
    assert states["DLR-21"] == "passed"
    assert run.summary["security_note"] is None
    assert run.summary["requests_sent"] == run.summary["requests_planned"]
    assert run.summary["options"]["public_params"] == (["tenant"] if "--public-param" in args else [])
    for name, text in _outputs(run).items():
        for secret in (r.TOKEN, r.PASSWORD, r.API_KEY):
            assert secret not in text, f"{secret!r} in the {name}"


def test_forged_requests_lack_a_real_credential_are_counted_and_keep_the_rate(
    recorder: Callable[..., Recorder], tmp_path: Path
) -> None:
    """Forged requests: none carries every real credential, the one without any keeps the public parameter, each
    altered value has the real one's length; they are in the planned requests and under --max-rps."""
    receiver = recorder()
    url = receiver.url + f"?tenant=acme&token={r.TOKEN}"
    header = f"X-Api-Key: {r.API_KEY}"
    run = run_suite(tmp_path, url, "-k", "DLR-20", "--public-param", "tenant", "--header", header, "--max-rps", "3")
    arrivals = list(receiver.arrivals)
    forged = [a for a in arrivals if b'"UNDELIV"' in a.body]
    # no credential at all, each of the two removed, each of the two altered
    assert len(forged) == 5, [a.path for a in arrivals]
    assert run.summary["requests_planned"] == run.summary["requests_sent"] == 6
    for arrival in forged:
        real_token = f"token={r.TOKEN}" in arrival.path
        real_key = arrival.headers.get("X-Api-Key") == r.API_KEY
        assert not (real_token and real_key), arrival
        assert "tenant=acme" in arrival.path
    bare = [a for a in forged if "token=" not in a.path and "X-Api-Key" not in a.headers]
    assert len(bare) == 1
    altered_keys = [a.headers["X-Api-Key"] for a in forged if a.headers.get("X-Api-Key") not in (None, r.API_KEY)]
    assert len(altered_keys) == 1
    assert len(altered_keys[0]) == len(r.API_KEY)
    # the underscores kept, every letter and digit changed within its class
    assert all(
        (a == "_") == (b == "_") and (a != b or a == "_") for a, b in zip(altered_keys[0], r.API_KEY, strict=True)
    )
    starts = sorted(a.at for a in arrivals)
    busiest = max(sum(start <= t <= start + 1.0 for t in starts) for start in starts)
    assert busiest <= 3, f"{busiest} requests arrived within one second"


def test_run_without_credentials_carries_the_security_note_and_keeps_its_verdict(
    served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """No credentials: DLR-20 not checked, the note in the console, the HTML report, the JSON summary and the JUnit
    file, and the verdict conformant all the same."""
    run = run_suite(tmp_path, served(CorrectWsgiReceiver()).url, *FAST, *SECURITY)
    assert run.code == 0, run.output[-3000:]
    assert run.verdict == "conformant"
    assert run.states()["DLR-20"] == "not_checked"
    assert run.summary["security_note"] == SECURITY_NOTE
    for name, text in _outputs(run).items():
        assert SECURITY_NOTE in text.replace("&#x27;", "'").replace("&#39;", "'"), name
    properties = {p.get("name"): p.get("value") for p in run.junit.iter("property")}
    assert properties["dlr-conformance.security_note"] == SECURITY_NOTE
    quiet = run_suite(tmp_path / "quiet", served(CorrectWsgiReceiver()).url, *FAST, *SECURITY, "-q")
    assert f"Security: {SECURITY_NOTE}" in quiet.output  # -q keeps it: one line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--public-param", "tenant"), "--public-param 'tenant' is not a query parameter of --target-url"),
        (("--public-param", "a=b"), "--public-param must be the name of a query parameter"),
    ],
    ids=["not-in-url", "bad-name"],
)
def test_public_param_errors_are_usage_errors(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    """A --public-param the URL does not have, or one that is no name: exit 4, one line, the token not shown."""
    done = invoke("--target-url", f"http://127.0.0.1:9/dlr?token={r.TOKEN}", *args, cwd=tmp_path)
    assert done.code == 4, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1, done.output
    assert says in lines[0]
    assert r.TOKEN not in done.output


def test_debug_traceback_is_a_dlr21_warning_beside_its_own_failure(
    served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """A receiver in debug mode crashes on an empty client_job_id: the 500 fails DLR-02 and DLR-03, and the
    traceback in its body is a DLR-21 warning with the snippet."""
    select = ("-k", "documented or client_job_id or DLR-21")
    run = run_suite(tmp_path, served(r.DebugTracebacks()).url, *FAST, *select, receiver_traceback=True)
    assert run.code == 1, run.output[-3000:]
    assert run.failing_requirements == {"DLR-02", "DLR-03"}
    assert run.states()["DLR-21"] == "warnings"
    warnings = [w for w in run.summary["warnings"] if w["requirement"] == "DLR-21"]
    assert warnings
    assert all(w["check"] == "error_answer_hides_internals" for w in warnings)
    assert any(
        "a Python traceback" in w["message"] and "Traceback (most recent call last)" in w["message"] for w in warnings
    )
    assert "An error answer exposes the receiver's internals" in run.output


def test_sql_built_by_concatenation_fails_dlr17_naming_the_fields(
    served: Callable[[Any], Served], tmp_path: Path
) -> None:
    """A receiver that builds its INSERT by concatenation on SQLite answers 500 to the hostile text of the edge
    cases that breaks its SQL: DLR-17 fails, each failed case naming the field; nothing else fails. (``' OR '1'='1``
    alone, in ``from`` and ``api_job_id``, is valid SQL once pasted in: it is stored as ``1``, which only a state
    reader shows: tests/state's ``concat`` receiver.)"""
    run = run_suite(tmp_path, served(r.SqlByConcatenation()).url, *FAST, "-k", NOT_GENERATED)
    assert run.code == 0, run.output[-3000:]  # DLR-17 is a SHOULD
    assert run.failing_requirements == {"DLR-17"}, run.failure_text()[:3000]
    text = run.failure_text()
    assert "Failed with a server error" in text
    failed = run.failed()
    for field in ("client_message_id", "client_job_id", "viber_from", "message_id"):
        assert f"hostile-text-in-{field}" in failed, (field, failed)


def test_altered_values_are_drawn_from_the_seed() -> None:
    """The same seed alters the same way (a run is reproducible), another seed differently."""
    url = f"https://h.example/dlr?token={r.TOKEN}"
    first = credentials.forgeries(url, (), (), random.Random(7))
    again = credentials.forgeries(url, (), (), random.Random(7))
    other = credentials.forgeries(url, (), (), random.Random(8))
    assert first == again
    assert first != other


def test_public_param_in_the_plugin_form(pytester: pytest.Pytester, served: Callable[[Any], Served]) -> None:
    """``--dlr-public-param`` under pytest: the tenant stays in every forgery (so only the token is forged: the
    genuine report, no credential, the token altered), and a name the URL lacks is a usage error."""
    url = served(r.TokenInUrl()).url + f"?tenant=acme&token={r.TOKEN}"
    result, run = run_pytester(pytester, url, "-k", "DLR-20", "--public-param", "tenant")
    assert result.ret == 0, "\n".join(result.outlines[-30:])
    assert run.states()["DLR-20"] == "passed"
    assert run.summary["requests_planned"] == run.summary["requests_sent"] == 3
    wrong = pytester.runpytest("--pyargs", "conformance.suite", "--dlr-target-url", url, "--dlr-public-param", "x")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    assert "--public-param 'x' is not a query parameter of --target-url" in "\n".join(wrong.errlines)
