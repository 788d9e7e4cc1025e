"""The engine's tests: the installed ``load`` command run to its end, its output files in the test's folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.process import Finished, dlr

LoadRun = tuple[Finished, dict[str, Any]]


def run_load(tmp_path: Path, *args: str) -> LoadRun:
    """``dlr-conformance load ARGS`` as installed, output files in ``tmp_path``: the process and its JSON summary."""
    outputs = {"--json": "s.json", "--junitxml": "j.xml", "--html": "l.html"}
    done = dlr("load", *args, *(a for flag, name in outputs.items() for a in (flag, tmp_path / name)), cwd=tmp_path)
    return done, json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))


@pytest.fixture
def load() -> Callable[..., LoadRun]:
    """``load(tmp_path, *args)``: a finished run of the installed ``dlr-conformance load``."""
    return run_load
