"""pytest plugin (entry point ``dlr_conformance``): stays inert until the conformance suite is asked for."""

from __future__ import annotations
