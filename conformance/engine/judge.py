"""One judging of an answer for every face: the suite, ``send`` and ``load`` ask the same checks whether the platform
would count a callback as delivered, and name the answer in the same words.

The checks are the catalogue's for a valid callback (exactly ``200 OK``, a complete answer within the deadline;
a large body or a slow answer only warns), run by :func:`conformance.checks.answers.run_checks`; what went wrong
with the transport is :func:`conformance.delivery.errors.classify`'s plain words. ``send`` retries what they fail,
``load`` counts it as a failed callback, the suite records it under the test's requirement.
"""

from __future__ import annotations

from conformance.checks.answers import CheckContext, Outcome, run_checks
from conformance.delivery.sender import Exchange
from conformance.requirements import by_key

__all__ = ["ANSWER_CHECKS", "answer_text", "context", "delivered"]

ANSWER_CHECKS = by_key("answered_200").checks  # what the platform needs of the answer to any valid callback
LATENCY_BUDGET = 2.0  # where a face has no --latency-budget: the suite's default (a slow answer only warns)


def delivered(exchange: Exchange, context: CheckContext) -> Outcome:
    """The checks' judgement of one answer: ``passed`` when the platform counts the callback as delivered."""
    return run_checks(exchange, context, ANSWER_CHECKS)


def context(url: str, timeout: float, latency_budget: float = LATENCY_BUDGET) -> CheckContext:
    """What the checks know beyond the answer, for a face that delivers to ``url`` with this deadline."""
    return CheckContext(timeout, latency_budget, https=url.lower().startswith("https:"))


def answer_text(exchange: Exchange) -> str:
    """The answer in the consoles' words: ``200 OK``, ``503 Service Unavailable``, ``no answer: <the cause>``."""
    if exchange.error is not None:
        return f"no answer: {exchange.error.reason}"
    return f"{exchange.status} {exchange.reason}".strip()
