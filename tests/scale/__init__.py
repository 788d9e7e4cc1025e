"""Tests at scale: campaigns, Locust load, memory, progress."""
