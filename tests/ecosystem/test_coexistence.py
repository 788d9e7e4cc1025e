"""The package installed next to widespread pytest plugins: another project's tests and the suite through
``pytest --pyargs conformance.suite`` both work, with every plugin active.

The plugins are those whose options or hooks could meet ours: pytest-timeout owns ``--timeout``, pytest-randomly
reorders tests and reseeds ``random``, pytest-xdist runs tests in other processes, pytest-json-report and
pytest-cov write reports, pytest-rerunfailures re-runs failures, and pytest-asyncio, pytest-mock, pytest-repeat,
pytest-base-url are installed almost everywhere. Everything comes from the wheelhouse: no package index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.receiver import ReceiverServer
from tests.support.process import Finished, run
from tests.support.tools import make_venv, offline_env

PLUGINS = (
    "pytest-timeout",
    "pytest-xdist",
    "pytest-randomly",
    "pytest-json-report",
    "pytest-rerunfailures",
    "pytest-cov",
    "pytest-asyncio",
    "pytest-mock",
    "pytest-repeat",
    "pytest-base-url",
)
PROJECT = {
    "test_theirs.py": "import random\n\n\ndef test_one():\n    assert 1 + 1 == 2\n\n\n"
    "def test_two(tmp_path):\n    assert random.random() < 1\n",
    "pytest.ini": "[pytest]\naddopts = --strict-markers\n",
}


@pytest.fixture(scope="module")
def plugged(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtualenv with the wheel and every plugin above."""
    return make_venv(tmp_path_factory.mktemp("plugged") / "venv", wheel, *PLUGINS)


@pytest.fixture
def reference() -> Iterator[str]:
    """The reference receiver, for the suite run."""
    server = ReceiverServer().start()
    yield server.url
    server.stop()


def _pytest(bin_dir: Path, *args: str, cwd: Path) -> Finished:
    return run([bin_dir / "pytest", *args], cwd=cwd, timeout=600, env=offline_env(PYTHONHASHSEED="0"))


def test_every_plugin_is_loaded(plugged: Path, tmp_path: Path) -> None:
    proc = _pytest(plugged, "--version", "--version", cwd=tmp_path)
    assert proc.code == 0, proc.stderr
    loaded = proc.stdout + proc.stderr
    for plugin in (*PLUGINS, "dlr-conformance"):
        assert plugin in loaded, f"{plugin} is not loaded:\n{loaded}"


def test_unrelated_project_runs_with_every_plugin(plugged: Path, tmp_path: Path) -> None:
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = _pytest(
        plugged,
        "--timeout",
        "60",
        "--json-report",
        "--json-report-file",
        "theirs.json",
        "--reruns",
        "1",
        "--count",
        "2",
        "-p",
        "randomly",
        cwd=tmp_path,
    )
    assert proc.code == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
    assert json.loads((tmp_path / "theirs.json").read_text(encoding="utf-8"))["summary"]["passed"] == 4
    assert not (tmp_path / "reports").exists()  # the conformance plugin stayed inert
    distributed = _pytest(plugged, "-n", "2", "--timeout", "60", "-q", cwd=tmp_path)
    assert distributed.code == 0, distributed.stdout + distributed.stderr
    assert "2 passed" in distributed.stdout


def test_suite_through_pyargs_with_every_plugin(plugged: Path, tmp_path: Path, reference: str) -> None:
    proc = _pytest(
        plugged,
        "--pyargs",
        "conformance.suite",
        "--dlr-target-url",
        reference,
        "--dlr-examples",
        "20",
        "--dlr-retry-interval",
        "0",
        "--timeout",
        "300",  # pytest-timeout's option, next to ours (--dlr-timeout)
        "--dlr-timeout",
        "10",
        "--dlr-latency-budget",  # a correct receiver on a loaded test machine: no warning (a verdict of conformant)
        "10",
        "-v",
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.code == 0, output
    assert "verdict: CONFORMANT" in proc.stdout
    assert "random-order" in proc.stdout or "randomly" in proc.stdout  # pytest-randomly was active
    # whatever pytest-randomly did, the suite's order: the stored-state checks after every delivery they judge,
    # the capacity checks after them, and last the look at every error answer of the run (DLR-21)
    ran = [
        line.split("::")[0]
        for line in proc.stdout.splitlines()
        if "::" in line and ("PASSED" in line or "SKIPPED" in line)
    ]
    assert ran.index("test_state.py") > max(i for i, name in enumerate(ran) if name == "test_contract_cases.py")
    last = {name: i for i, name in enumerate(ran)}  # (the certificate's test, in test_capacity.py, runs first)
    assert last["test_capacity.py"] > last["test_state.py"], ran
    assert ran[-1] == "test_security.py", ran
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "conformant"
    assert summary["requests_sent"] > 100
