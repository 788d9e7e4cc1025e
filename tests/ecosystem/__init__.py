"""Tests of the package among others: the wheel, the contract export, other pytest plugins, CI recipes."""
