"""Tests of the stored-state checks: readers, preparers, stateful receivers, the PostgreSQL example."""
