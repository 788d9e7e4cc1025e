"""Fixtures of the ecosystem tests: the project's wheel and a virtualenv with only the wheel installed, each made once
per test session, for every pytest-xdist worker (what ``scripts/test.sh`` prepares for them is in
:mod:`tests.support.tools`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.tools import ROOT, make_venv, offline_env, once, run


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built in an isolated environment like a release build, with no package index."""

    def build(out: Path) -> None:
        run([sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT], cwd=out, timeout=600, env=offline_env())

    (built,) = once(tmp_path_factory, "dist", build).glob("*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtualenv with only the wheel (and its dependencies) installed, offline."""
    return (
        once(tmp_path_factory, "installed", lambda folder: make_venv(folder / "venv", wheel) and None) / "venv" / "bin"
    )
