"""docs/ci.md stays true: the shell steps of its GitHub Actions and GitLab CI recipes run, as written, against the
reference receiver (not the CI services), offline, with the tool version they pin; the reports land where the
recipes' artifact sections look for them, and every command is one the README documents."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import __version__
from conformance.reference.receiver import ReceiverServer
from tests.support.tools import ROOT, WHEELHOUSE, offline_env

DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECRET = "s3cr3t-staging-token"


def _recipe(heading: str) -> dict[str, Any]:
    """The first yaml block of the section ``## heading``."""
    section = DOC.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None, f"no yaml block under '## {heading}'"
    recipe: dict[str, Any] = yaml.safe_load(block.group(1))
    return recipe


@dataclass
class Job:
    """One CI job: its variables, its shell steps (each run as the CI would) and where its artifacts are."""

    name: str
    variables: dict[str, str]
    steps: list[str]
    artifacts: list[str]
    junit: str


def _github_jobs() -> list[Job]:
    jobs = []
    for name, job in _recipe("GitHub Actions")["jobs"].items():
        uses = [step for step in job["steps"] if "uses" in step]
        artifacts = [s["with"]["path"] for s in uses if s["uses"].startswith("actions/upload-artifact@")]
        junit = [s["with"]["report_paths"] for s in uses if "junit" in s["uses"]]
        jobs.append(
            Job(
                f"github-{name}",
                {k: str(v) for k, v in job["env"].items()},
                [step["run"] for step in job["steps"] if "run" in step],
                artifacts,
                junit[0] if junit else "reports/junit.xml",
            )
        )
    return jobs


def _gitlab_jobs() -> list[Job]:
    return [
        Job(
            f"gitlab-{name}",
            {k: str(v) for k, v in job["variables"].items()},
            ["\n".join(job["script"])],
            job["artifacts"]["paths"],
            job["artifacts"]["reports"]["junit"],
        )
        for name, job in _recipe("GitLab CI").items()
    ]


JOBS = _github_jobs() + _gitlab_jobs()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def staging() -> Iterator[str]:
    """The reference receiver standing in for shared staging."""
    server = ReceiverServer().start()
    yield server.url
    server.stop()


def test_recipes_have_both_jobs() -> None:
    assert [job.name for job in JOBS] == [
        "github-conformance",
        "github-staging",
        "gitlab-conformance",
        "gitlab-staging",
    ]


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_pins_this_release_and_fixes_the_seed(job: Job) -> None:
    assert job.variables["DLR_CONFORMANCE_VERSION"] == __version__
    assert job.variables["SEED"].isdigit()
    assert any('"dlr-conformance==${DLR_CONFORMANCE_VERSION}"' in step for step in job.steps)
    runs = [cmd for cmd in _commands(job) if cmd[0] == "dlr-conformance" and cmd[1:2] != ["serve"]]
    assert runs
    for cmd in runs:
        assert "--seed" in cmd
        assert "--junitxml" in cmd
        assert job.junit == cmd[cmd.index("--junitxml") + 1]
        if "staging" in job.name:
            assert "--max-rps" in cmd


def _commands(job: Job) -> list[list[str]]:
    """The dlr-conformance and pip command lines of a job's steps, split like a shell would (no expansion)."""
    found = []
    for step in job.steps:
        for line in step.replace("\\\n", " ").splitlines():
            line = line.split(" > ")[0].strip().removeprefix("nohup ")
            if line.startswith(("dlr-conformance", "python -m pip")):
                found.append(shlex.split(line))
    return found


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_uses_only_readme_commands(job: Job) -> None:
    for cmd in _commands(job):
        if cmd[0] == "python":
            assert cmd[1:4] == ["-m", "pip", "install"]
            continue
        for arg in cmd[1:]:
            if arg.startswith("-"):
                assert f"`{arg}" in README or f"{arg} " in README, f"{arg} ({job.name}) is not in the README"
        if cmd[1:2] == ["serve"]:
            assert "dlr-conformance serve --port" in README


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_steps_run(job: Job, installed: Path, wheel: Path, tmp_path: Path, staging: str) -> None:
    """The job's shell steps in order, as the CI runs them, in an empty workspace; the background receiver of the
    conformance job is stopped afterwards with the whole process group."""
    variables = dict(job.variables)
    overrides = {"RECEIVER_PORT": str(_free_port()), "STAGING_DLR_URL": staging, "STAGING_DLR_TOKEN": SECRET}
    for key in variables:
        if key in overrides:
            variables[key] = overrides[key]
        assert "${{" not in variables[key], f"{key}: a CI expression the test does not stand in for"
    secrets = {"STAGING_DLR_URL": staging, "STAGING_DLR_TOKEN": SECRET}  # the CI's secret variables
    env = offline_env(
        **{**secrets, **variables},
        PATH=f"{installed}{os.pathsep}{os.environ['PATH']}",
        PIP_FIND_LINKS=f"{WHEELHOUSE} {wheel.parent}",
        PIP_QUIET="1",
    )
    env.pop("DLR_TARGET_URL", None)
    driver = ["set -e"]
    for number, step in enumerate(job.steps):
        script = tmp_path / f"step-{number}.sh"
        script.write_text(step, encoding="utf-8")
        driver.append(f"bash --noprofile --norc -eo pipefail {script}")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    proc = subprocess.Popen(
        ["bash", "-c", "\n".join(driver)],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the receiver started in the background, if any
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, output
    assert "verdict: CONFORMANT" in output
    for path in job.artifacts:
        assert (workspace / path).exists(), f"the artifact path {path} of {job.name} does not exist"
    assert (workspace / job.junit).is_file()
    summary = json.loads((workspace / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "conformant"
    assert str(summary["seed"]) == variables["SEED"]
    everything = output + "".join(p.read_text(encoding="utf-8", errors="replace") for p in workspace.rglob("*.*"))
    assert SECRET not in everything  # the staging token is masked everywhere
