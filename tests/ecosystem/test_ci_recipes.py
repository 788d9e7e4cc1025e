"""docs/how-to/ci.md stays true: the shell steps of its GitHub Actions and GitLab CI recipes run, as written, against
the reference receiver (not the CI services), offline; their install line, the same in every job, installs the
release they pin from a git repository of this checkout tagged like the release, in a fresh virtualenv; the reports
land where the recipes' artifact sections look for them, and every option they use is in the options reference.
The action the page shows first is tested in test_action.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import __version__
from conformance.reference.receiver import ReceiverServer
from tests.support.tools import ROOT, offline_env, run

DOC = (ROOT / "docs" / "how-to" / "ci.md").read_text(encoding="utf-8")
OPTIONS = (ROOT / "docs" / "reference" / "options.md").read_text(encoding="utf-8")
SECRET = "s3cr3t-staging-token"
INSTALL = 'python -m pip install "dlr-conformance @ git+${DLR_CONFORMANCE_GIT}@v${DLR_CONFORMANCE_VERSION}"'
PLACEHOLDER_GIT = "https://github.com/your-org/dlr-conformance"


def _recipe(heading: str) -> dict[str, Any]:
    """The first yaml block of the section ``### heading``."""
    section = re.split(r"\n#{2,3} ", DOC.split(f"\n### {heading}\n", 1)[1], maxsplit=1)[0]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None, f"no yaml block under '### {heading}'"
    recipe: dict[str, Any] = yaml.safe_load(block.group(1))
    return recipe


@dataclass
class Job:
    """One CI job: its variables, its install line, its other shell steps (each run as the CI would) and where its
    artifacts are."""

    name: str
    variables: dict[str, str]
    install: list[str]
    steps: list[str]
    artifacts: list[str]
    junit: str


def _github_jobs() -> list[Job]:
    jobs = []
    for name, job in _recipe("GitHub Actions")["jobs"].items():
        uses = [step for step in job["steps"] if "uses" in step]
        artifacts = [s["with"]["path"] for s in uses if s["uses"].startswith("actions/upload-artifact@")]
        junit = [s["with"]["report_paths"] for s in uses if "junit" in s["uses"]]
        runs = [step["run"] for step in job["steps"] if "run" in step]
        jobs.append(
            Job(
                f"github-{name}",
                {k: str(v) for k, v in job["env"].items()},
                [run for run in runs if "pip install" in run],
                [run for run in runs if "pip install" not in run],
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
            [line for line in job["script"] if "pip install" in line],
            ["\n".join(line for line in job["script"] if "pip install" not in line)],
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
def staging(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The reference receiver standing in for shared staging: its URL and its state reader."""
    db = tmp_path / "staging.sqlite3"
    server = ReceiverServer(db=str(db)).start()
    yield server.url, f"dlr-conformance stored --db {shlex.quote(str(db))}"
    server.stop()


def test_recipes_have_both_jobs() -> None:
    assert [job.name for job in JOBS] == [
        "github-conformance",
        "github-staging",
        "gitlab-conformance",
        "gitlab-staging",
    ]


@pytest.fixture(scope="session")
def recipe_installed(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh virtualenv where the recipes' install line ran, as on a fresh CI machine: the git
    URL is the one placeholder replaced (by a repository of this checkout; pip needs a host in a file URL), the
    version is the recipes'."""
    venv = tmp_path_factory.mktemp("recipe-installed") / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=venv.parent, timeout=300, env=offline_env())
    variables = {**JOBS[0].variables, "DLR_CONFORMANCE_GIT": f"file://localhost{checkout}"}
    env = offline_env(**variables, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", INSTALL], cwd=venv.parent, timeout=900, env=env)
    return venv / "bin"


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_pins_this_release_and_fixes_the_seed(job: Job) -> None:
    assert job.variables["DLR_CONFORMANCE_VERSION"] == __version__
    assert job.variables["DLR_CONFORMANCE_GIT"] == PLACEHOLDER_GIT
    assert job.variables["SEED"].isdigit()
    assert job.install == [INSTALL]
    runs = [cmd for cmd in _commands(job) if cmd[0] == "dlr-conformance" and cmd[1:2] != ["serve"]]
    assert runs
    for cmd in runs:
        assert "--seed" in cmd
        assert "--junitxml" in cmd
        assert job.junit == cmd[cmd.index("--junitxml") + 1]
        if "staging" in job.name:
            assert "--max-rps" in cmd


def _commands(job: Job) -> list[list[str]]:
    """The dlr-conformance command lines of a job's steps, split like a shell would (no expansion)."""
    found = []
    for step in job.steps:
        for line in step.replace("\\\n", " ").splitlines():
            line = line.split(" > ")[0].strip().removeprefix("nohup ")
            if line.startswith("dlr-conformance"):
                found.append(shlex.split(line))
    return found


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_uses_only_documented_options(job: Job) -> None:
    for cmd in _commands(job):
        section = OPTIONS
        if cmd[1:2] == ["serve"]:
            section = OPTIONS.split("## `dlr-conformance serve`", 1)[1].split("\n## ", 1)[0]
        for arg in cmd[1:]:
            if arg.startswith("-"):
                assert f"`{arg} " in section or f"`{arg}`" in section, f"{arg} ({job.name}) is not in {section[:40]!r}"


def test_install_line_installs_this_release(recipe_installed: Path) -> None:
    """The release tag, pip's git clone and the package's build from it: the tool installed is this release, from
    the git URL (what pip recorded)."""
    version = subprocess.run(
        [recipe_installed / "dlr-conformance", "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert version.stdout.strip() == f"dlr-conformance {__version__}"
    (record,) = (recipe_installed.parent / "lib").glob("python3*/site-packages/dlr_conformance-*.dist-info")
    origin = json.loads((record / "direct_url.json").read_text(encoding="utf-8"))
    assert origin["vcs_info"]["requested_revision"] == f"v{__version__}"


@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_recipe_steps_run(job: Job, recipe_installed: Path, tmp_path: Path, staging: tuple[str, str]) -> None:
    """The job's shell steps in order, as the CI runs them, in an empty workspace, with the install line's virtualenv
    (the line is the same in every job: it ran once); the background receiver of the conformance job is stopped
    afterwards with the whole process group."""
    variables = dict(job.variables)
    url, reader = staging
    overrides = {
        "RECEIVER_PORT": str(_free_port()),
        "STAGING_DLR_URL": url,
        "STAGING_DLR_TOKEN": SECRET,
        "STAGING_STATE_CMD": reader,
    }
    for key in variables:
        if key in overrides:
            variables[key] = overrides[key]
        assert "${{" not in variables[key], f"{key}: a CI expression the test does not stand in for"
    secrets = {"STAGING_DLR_URL": url, "STAGING_DLR_TOKEN": SECRET, "STAGING_STATE_CMD": reader}  # the CI's secrets
    env = offline_env(
        **{**secrets, **variables},
        PATH=f"{recipe_installed}{os.pathsep}{os.environ['PATH']}",
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
    states = {row["id"]: row["state"] for row in summary["requirements"]}
    if "staging" in job.name:
        # staging sends a bearer token that the stand-in receiver (serve) never checks: forged callbacks are taken,
        # a failed recommendation (SHOULD), as it would be for a real receiver that ignores its token
        assert states["DLR-20"] == "failed"
        assert summary["verdict"] == "conformant_with_warnings"
    else:
        assert summary["verdict"] == "conformant"
    assert str(summary["seed"]) == variables["SEED"]
    assert {"DLR-13", "DLR-14", "DLR-15", "DLR-16"} <= set(summary["options"]["require_checked"])
    assert summary["required_not_checked"] == []
    assert summary["stored_state"].startswith("read with the state reader")  # checked, not only "not checked"
    everything = output + "".join(p.read_text(encoding="utf-8", errors="replace") for p in workspace.rglob("*.*"))
    assert SECRET not in everything  # the staging token is masked everywhere
