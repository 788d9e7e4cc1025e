"""The ecosystem tests' helper module beside this file, made importable (``--import-mode=importlib`` puts no test
folder on ``sys.path``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if "prepared_tools" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("prepared_tools", Path(__file__).with_name("prepared_tools.py"))
    assert _spec is not None
    assert _spec.loader is not None
    sys.modules["prepared_tools"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["prepared_tools"])

from prepared_tools import ROOT, make_venv, offline_env, run


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built in an isolated environment like a release build, with no package index."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT], cwd=out, timeout=600, env=offline_env())
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtualenv with only the wheel (and its dependencies) installed, offline."""
    return make_venv(tmp_path_factory.mktemp("installed") / "venv", wheel)
