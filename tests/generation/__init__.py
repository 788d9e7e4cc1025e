"""Tests of payload generation: the strategies, the worker, the generated check, seed independence."""
