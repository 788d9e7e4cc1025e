"""Tests of robustness: bad input, hostile endpoints, delivery, evidence, interrupts, rate limit, secrets."""
