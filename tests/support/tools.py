"""What scripts/test.sh prepares for the ecosystem tests (the set-up step, the only one with network): tests only read.

``.tools/`` (git-ignored) holds a wheelhouse (the package's dependencies, the build backend and the third-party
pytest plugins of the coexistence test, so that installs run with ``--no-index``) and the AsyncAPI parser's
node_modules.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.process import run as run_process

__all__ = ["NODE_MODULES", "ROOT", "TOOLS", "WHEELHOUSE", "make_venv", "offline_env", "once", "require", "run"]

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
WHEELHOUSE = TOOLS / "wheelhouse"
NODE_MODULES = TOOLS / "asyncapi" / "node_modules"


def require(path: Path) -> Path:
    """``path`` as prepared by scripts/test.sh; fails (never skips) the test when it is missing."""
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash scripts/test.sh` once (it prepares {TOOLS.name}/)", pytrace=False)
    return path


def offline_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess that must not reach a package index: pip finds only the wheelhouse."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(require(WHEELHOUSE)),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def run(args: list[str | Path], *, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a command that must succeed (the assertion shows its output, not only the exit code); its stdout."""
    return run_process(args, cwd=cwd, env=os.environ if env is None else env, timeout=timeout, check=True).stdout


def make_venv(path: Path, *requirements: str | Path) -> Path:
    """A fresh virtualenv at ``path`` with ``requirements`` installed from the wheelhouse; returns its bin folder."""
    run([sys.executable, "-m", "venv", path], cwd=path.parent, timeout=300, env=offline_env())
    run(
        [path / "bin" / "python", "-m", "pip", "install", "--quiet", *requirements],
        cwd=path.parent,
        timeout=900,
        env=offline_env(),
    )
    return path / "bin"


def once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """A folder ``name`` filled by ``make(folder)`` once per test session, shared by its pytest-xdist workers.

    The first worker to ask makes it while holding a lock; the others wait for it and reuse it. Without xdist it is
    made in this session's temporary folder.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = factory.mktemp(name)
        make(folder)
        return folder
    shared = factory.getbasetemp().parent  # the session's folder, above each worker's own
    folder, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            folder.mkdir(exist_ok=True)
            make(folder)
            done.touch()
    return folder
