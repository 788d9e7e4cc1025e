"""Hostile text the contract allows (quotes, backslash, ``;--``, ``<script>``, ``%s%n``, ``${jndi:...}``, ``{{7*7}}``,
``$(id)``): in the adversarial draws and the edge cases, never in a realistic payload, always kept by ``fresh``."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.contract import schema as contract
from conformance.generation import aspects
from conformance.generation.cases import CASES, fresh
from tests.support.draws import draw, strings


@pytest.fixture(scope="module")
def drawn() -> list[dict[str, Any]]:
    return draw(1500, 777, 25, "0badf00d")  # in a fresh interpreter: see tests.support.draws


def _hostile(payload: dict[str, Any]) -> bool:
    return any(fragment in s for s in strings(payload) for fragment in aspects.HOSTILE if len(fragment) > 2)


def test_adversarial_draws_carry_hostile_text_and_realistic_ones_never(drawn: list[dict[str, Any]]) -> None:
    hostile = [p for p in drawn if _hostile(p)]
    assert len(hostile) >= 10, len(hostile)
    assert all(aspects.aspect(p) == "adversarial" for p in hostile)
    realistic = [p for p in drawn if aspects.aspect(p) != "adversarial"]
    assert realistic
    known = [  # the contract's text fields (an unknown extra field's value is not what this is about)
        value
        for p in realistic
        for value in (
            p.get("api_job_id"),
            p.get("client_job_id"),
            *(v for r in p["data"] for k, v in r.items() if k[:2] != "x_"),
        )
        if isinstance(value, str)
    ]
    assert known
    assert not any(c in s for s in known for c in aspects.HOSTILE_CHARACTERS)


@pytest.mark.parametrize("field", ["client_message_id", "client_job_id", "viber_from", "from", "sms_from"])
def test_hostile_text_is_adversarial_in_every_field(field: str) -> None:
    record = {"message_id": "1"} if field == "client_job_id" else {field: "' OR '1'='1", "message_id": "1"}
    body = {"api_job_id": "x", "data": [record]}
    if field == "client_job_id":
        body[field] = "' OR '1'='1"
    assert aspects.adversarial_values(body), body


def test_every_field_has_a_hostile_edge_case_that_fresh_keeps() -> None:
    cases = [c for c in CASES if c.name.startswith("hostile text in ")]
    fields = {c.name.removeprefix("hostile text in ") for c in cases}
    ids = {"message_id", "api_job_id"}
    assert fields == {"client_message_id", "client_job_id", "viber_from", "from", "sms_from", *ids}
    for case in cases:
        body = fresh(case.payload, "abcd1234")
        assert contract.is_valid(body), case.name
        assert aspects.aspect(body) == "adversarial", case.name
        assert body["api_job_id"].startswith("dlrc-abcd1234-")
    by_name = {c.name: fresh(c.payload, "abcd1234") for c in cases}
    assert by_name["hostile text in message_id"]["data"][0]["message_id"].endswith("';--<script>")
    assert by_name["hostile text in api_job_id"]["api_job_id"].endswith("' OR '1'='1{{7*7}}$(id)")
