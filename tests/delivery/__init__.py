"""Tests of the delivery package in-process: transport errors in plain words, the rate limit."""
