"""Tests of the reporting package in-process: the verdict rules, the JSON summary, the console's account."""
