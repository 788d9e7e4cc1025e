"""Planted secrets appear in no output: console, HTML, JUnit XML, JSON summary, curl reproductions.

The receiver echoes the secrets it was sent in its response headers, body and redirect target, and fails most
requests, so that failure messages, evidence and curl reproductions are all produced and all scanned.
"""

from __future__ import annotations

import base64
import html
import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from conformance.delivery import credentials

if TYPE_CHECKING:
    from tests.support.runs import SuiteRun
    from tests.support.servers import Arrival, Recorder

TOKEN = "s3cr3t-token-XYZ"
API_KEY = "k3y/SECRET+42"
PASSWORD = "p4ss!w0rd-ABC"  # in the URL as p4ss%21w0rd-ABC
QUERY_VALUE = "q7uery/SECRET"  # in the URL as q7uery%2FSECRET
USER = "dlruser"


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], html.escape(secret)}


def _echo(url: str) -> Callable[[Arrival, int], tuple[int, dict[str, str], bytes]]:
    def respond(arrival: Arrival, index: int) -> tuple[int, dict[str, str], bytes]:
        echoed = {
            "auth": arrival.headers.get("Authorization", ""),
            "key": arrival.headers.get("X-Api-Key", ""),
            "path": arrival.path,
        }
        headers = {"X-Echo-Auth": echoed["auth"], "X-Echo-Key": echoed["key"], "X-Echo-Path": arrival.path}
        body = json.dumps(echoed).encode()
        if index % 3 == 0:
            return 500, headers, body
        if index % 3 == 1:
            return 302, {**headers, "Location": url}, body
        return 200, headers, body

    return respond


def test_planted_secrets_appear_in_no_output(recorder: Callable[..., Recorder], cli: Callable[..., SuiteRun]) -> None:
    """Header values, the userinfo password and the query string are masked everywhere, echoes included."""
    receiver = recorder()
    port = receiver.port
    url = f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/dlr?token={quote(QUERY_VALUE, safe='')}"
    receiver.respond = _echo(url)
    run = cli(
        "--target-url",
        url,
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--header",
        f"X-Api-Key: {API_KEY}",
        "--timeout",
        "5",
        "--examples",
        "10",
        "--concurrency",
        "6",
        "-k",
        "documented or burst or generated or retry_of or DLR-20 or DLR-21",
    )

    # the secrets did reach the receiver and were echoed, and failures with reproductions were produced
    assert any(a.headers.get("Authorization") == f"Bearer {TOKEN}" for a in receiver.arrivals)
    assert any(a.headers.get("X-Api-Key") == API_KEY for a in receiver.arrivals)
    assert any(QUERY_VALUE in a.path or quote(QUERY_VALUE, safe="") in a.path for a in receiver.arrivals)
    assert run.code == 1, run.stdout[-3000:] + run.stderr
    assert "curl -sS" in run.stdout  # the reproductions the console shows, once per cause
    assert "***" in run.stdout
    summary = run.summary
    assert any(e["curl"] for cause in summary["causes"] for e in cause["examples"])

    outputs = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "report.html": run.html_path.read_text(encoding="utf-8"),
        "junit.xml": run.junit_path.read_text(encoding="utf-8"),
        "summary.json": run.json_path.read_text(encoding="utf-8"),
    }
    outputs["report.html (unescaped)"] = html.unescape(outputs["report.html"])
    outputs["junit.xml (unescaped)"] = html.unescape(outputs["junit.xml"])
    outputs["summary.json (decoded)"] = json.dumps(json.loads(outputs["summary.json"]), ensure_ascii=False)
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    secrets = {basic} | _forms(TOKEN) | _forms(API_KEY) | _forms(PASSWORD) | _forms(QUERY_VALUE)
    # the forged callbacks' altered values (drawn from the run's seed) reached the receiver, were echoed, are masked
    headers = (("Authorization", f"Bearer {TOKEN}"), ("X-Api-Key", API_KEY))
    forged = credentials.forgeries(url, headers, (), random.Random(summary["seed"]))
    altered = {value.removeprefix("Bearer ") for forgery in forged for value in forgery.altered}
    assert len(altered) == 3  # the token, the key, the query value (the URL's password is unsent beside the token)
    arrived = " ".join(
        f"{a.path} {a.headers.get('Authorization', '')} {a.headers.get('X-Api-Key', '')}" for a in receiver.arrivals
    )
    assert all(value in arrived or quote_plus(value, safe="") in arrived for value in altered), altered
    secrets |= {form for value in altered for form in _forms(value)}
    leaks = [(name, secret) for name, text in outputs.items() for secret in secrets if secret in text]
    assert not leaks, leaks
