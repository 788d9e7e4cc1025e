"""Tests of the engine as every face uses it: one judging, one ledger, one poll loop; load and the plugin."""
