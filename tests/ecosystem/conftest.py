"""Fixtures of the ecosystem tests: the project's wheel, a virtualenv with only the wheel installed, and a git
repository of this checkout, each made once per test session for every pytest-xdist worker (what
``scripts/test.sh`` prepares for them is in :mod:`tests.support.tools`)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from conformance import __version__
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
    return once(tmp_path_factory, "installed", lambda folder: make_venv(folder / "venv", wheel)) / "venv" / "bin"


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of this checkout's files as they are on disk (tracked and new, not the ignored ones), one
    commit tagged ``v<version>``: what ``pip install "dlr-conformance @ git+URL@v<version>"`` clones, and what GitHub
    checks out for ``uses: OWNER/dlr-conformance@v<version>``."""
    return once(tmp_path_factory, "checkout", _checkout) / "dlr-conformance"


def _checkout(folder: Path) -> None:
    repo = folder / "dlr-conformance"
    # safe.directory: the checkout may belong to another user than the one running the tests
    files = ["git", "-c", f"safe.directory={ROOT}", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = run(files, cwd=ROOT, timeout=60)
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is not part of it
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    # no user or system git configuration (signing, hooks, templates) changes the commit
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-c", "user.name=dlr-conformance tests", "-c", "user.email=tests@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "this checkout"], ["tag", f"v{__version__}"]):
        run([*git, *args], cwd=repo, timeout=120, env=env)
