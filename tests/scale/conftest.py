"""Helpers of the scale tests: the fault self-tests' serving helpers, importable here too, and a pty runner.

The project imports tests with ``--import-mode=importlib``, which puts no test folder on ``sys.path``; this
conftest loads ``fault_serving`` and ``fault_runs`` from ``tests/faults`` under those names (once per session).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FAULTS = Path(__file__).resolve().parent.parent / "faults"

for _name in ("fault_serving", "fault_runs"):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, FAULTS / f"{_name}.py")
        assert _spec is not None
        assert _spec.loader is not None
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module  # before executing: dataclasses look their module up by name
        _spec.loader.exec_module(_module)
