"""Tests of the three reports: HTML (as a browser renders it), JUnit XML and the JSON summary."""
