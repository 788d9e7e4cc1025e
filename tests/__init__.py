"""The project's own tests (never shipped): ``tests.support`` holds what they share."""
