"""Tests of the engine the suite, send and load share: one judging, one ledger and poll loop, one options table,
verdict vocabulary and writers, and a default run's outputs against snapshots."""
