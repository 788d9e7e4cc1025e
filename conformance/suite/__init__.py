"""The conformance scenarios fired at a target: ``pytest --pyargs conformance.suite --target-url URL``."""
