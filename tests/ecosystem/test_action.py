"""action.yml, the GitHub Action, does what docs/how-to/ci.md says. Its steps are read from the file and run in order
as the runner runs a composite action: each ``run:`` in bash with the ``${{ }}`` expressions of its ``env`` filled
in, a step without ``if: always()`` skipped once one has failed, the ``uses:`` step's paths checked; offline, with
the action's checkout a git repository of this one tagged like a release. The action installs the tool into a
virtualenv of its own, runs it, writes the verdict and the failed requirements to the job summary and ends with
the tool's exit code; a secret given to it appears nowhere."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conformance import __version__
from tests.support.faults import success_other_than_200
from tests.support.process import run
from tests.support.servers import serve
from tests.support.tools import ROOT, offline_env

ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
DOC = (ROOT / "docs" / "how-to" / "ci.md").read_text(encoding="utf-8")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUTS = [
    "target-url",
    "examples",
    "seed",
    "max-rps",
    "strict",
    "state-cmd",
    "prepare-cmd",
    "status-map",
    "require-checked",
    "args",
]
REPORTS = ["reports/report.html", "reports/junit.xml", "reports/summary.json"]
SECRET = "s3cr3t-action-token"


@dataclass
class ActionRun:
    """What one use of the action left: its exit code, the steps' log, the job summary, its outputs, the workspace."""

    exit_code: int
    log: str
    markdown: str
    outputs: dict[str, str]
    uploaded: list[str]
    workspace: Path

    def summary(self) -> dict[str, Any]:
        """The JSON summary the run wrote."""
        found: dict[str, Any] = json.loads((self.workspace / "reports" / "summary.json").read_text(encoding="utf-8"))
        return found


@dataclass
class Runner:
    """A job's runner: the action's checkout, ``$RUNNER_TEMP`` (kept between uses, as within one job)."""

    action_path: Path
    temp: Path

    def use(self, workspace: Path, env: dict[str, str] | None = None, **inputs: str) -> ActionRun:
        """One use of the action in ``workspace`` with ``inputs`` (named with ``_`` for ``-``) and the job's ``env``."""
        given = {name.replace("_", "-"): value for name, value in inputs.items()}
        assert set(given) <= set(ACTION["inputs"]), f"not an input of the action: {set(given) - set(ACTION['inputs'])}"
        context: dict[str, Any] = {
            "inputs": {name: given.get(name, str(spec.get("default", ""))) for name, spec in ACTION["inputs"].items()},
            "github": {"action_path": str(self.action_path), "job": "conformance"},
            "runner": {"temp": str(self.temp)},
            "steps": {},
        }
        files = workspace.parent / f"{workspace.name}-runner"
        files.mkdir()
        step_summary = files / "step-summary.md"
        step_summary.touch()
        base = offline_env(
            GITHUB_ACTIONS="true",
            GITHUB_ACTION_PATH=str(self.action_path),
            GITHUB_JOB="conformance",
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_STEP_SUMMARY=str(step_summary),
            RUNNER_TEMP=str(self.temp),
            **(env or {}),
        )
        for name in ("DLR_TARGET_URL", "DLR_STATE_CMD", "DLR_PREPARE_CMD"):
            if name not in (env or {}):
                base.pop(name, None)
        failed, log, uploaded = 0, [], []
        for number, step in enumerate(ACTION["runs"]["steps"]):
            condition = EXPRESSION.sub(r"\1", step.get("if", "success()")).strip()
            assert condition in ("success()", "always()"), f"a condition the test does not evaluate: {condition!r}"
            if failed and condition == "success()":
                continue
            if "uses" in step:
                assert step["uses"].startswith("actions/upload-artifact@"), f"a step the test cannot run: {step}"
                uploaded += [_fill(path, context) for path in step["with"]["path"].split()]
                continue
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "an expression in a script: GitHub prints it, secrets included, in the log"
            output = files / f"output-{number}"
            output.touch()
            step_env = {**base, **{k: _fill(str(v), context) for k, v in step.get("env", {}).items()}}
            step_env["GITHUB_OUTPUT"] = str(output)
            script = files / f"step-{number}.sh"
            script.write_text(step["run"], encoding="utf-8")
            proc = run(  # how the runner runs `shell: bash`
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                cwd=workspace,
                env=step_env,
                timeout=600,
                merged=True,
            )
            log.append(proc.stdout)
            if "id" in step:
                lines = output.read_text(encoding="utf-8").splitlines()
                context["steps"][step["id"]] = {"outputs": dict(line.split("=", 1) for line in lines)}
            failed = failed or proc.code
        return ActionRun(
            exit_code=failed,
            log="".join(log),
            markdown=step_summary.read_text(encoding="utf-8"),
            outputs={name: _fill(spec["value"], context) for name, spec in ACTION["outputs"].items()},
            uploaded=uploaded,
            workspace=workspace,
        )


def _fill(text: str, context: dict[str, Any]) -> str:
    """``text`` with each ``${{ a.b.c }}`` replaced as the runner would (a step output never set is empty)."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        assert path[0] in context, f"an expression the test does not stand in for: {match.group(0)}"
        found: Any = context
        for key in path:
            found = found.get(key, "") if isinstance(found, dict) else ""
        return str(found)

    return EXPRESSION.sub(value, text)


@pytest.fixture(scope="module")
def runner(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """One job's runner for the module: the action's virtualenv is made by the first use, kept for the others."""
    return Runner(checkout, tmp_path_factory.mktemp("runner-temp"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace, as after a checkout of a repository that has no reports yet."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def test_inputs_are_the_documented_ones() -> None:
    assert list(ACTION["inputs"]) == INPUTS
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in ACTION["inputs"].items():
        assert spec["description"], name
        assert "${{" not in spec["description"], name  # GitHub evaluates no expression there


def test_docs_use_the_action_at_this_release() -> None:
    """ci.md shows the action first, pinned to this release's tag, with only inputs it has."""
    section = DOC.split("\n## ", 2)[1]
    assert section.startswith("The GitHub Action")
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    steps = [s for job in yaml.safe_load(block.group(1))["jobs"].values() for s in job["steps"]]
    uses = [s for s in steps if str(s.get("uses", "")).split("@")[0].endswith("/dlr-conformance")]
    assert uses
    for step in uses:
        assert step["uses"].endswith(f"@v{__version__}")
        assert set(step.get("with", {})) <= set(INPUTS)
        assert "${{" not in str(step.get("run", ""))


def test_reference_receiver_is_conformant(runner: Runner, workspace: Path) -> None:
    """No target URL: the bundled reference receiver; exit 0, CONFORMANT in the summary, the three reports kept."""
    run = runner.use(workspace, examples="20", seed="20251130")
    assert run.exit_code == 0, run.log
    assert run.outputs == {"exit-code": "0"}
    assert f"dlr-conformance {__version__}" in run.log  # the install step names what it installed
    assert "verdict: CONFORMANT" in run.log
    assert run.markdown.startswith("## dlr-conformance: :white_check_mark: CONFORMANT (not checked: DLR-12: ")
    assert "Failed requirements" not in run.markdown
    assert "seed `20251130`" in run.markdown
    assert "exit code 0" in run.markdown
    coverage = run.summary()["coverage"]
    assert f"{coverage['exercised']} of {coverage['cells']} coverage cells exercised" in run.markdown
    assert "in the artifact `dlr-conformance-reports-conformance`" in run.markdown
    assert run.uploaded == REPORTS
    for path in REPORTS:
        assert (workspace / path).is_file(), path
    assert run.summary()["verdict"] == "conformant"
    assert run.summary()["options"]["examples"] == 20
    venvs = list(runner.temp.glob("dlr-conformance-*"))
    assert len(venvs) == 1
    assert (venvs[0] / "bin" / "dlr-conformance").is_file()  # its own virtualenv, under RUNNER_TEMP


def test_failing_receiver_fails_and_no_secret_shows(runner: Runner, workspace: Path) -> None:
    """A receiver that answers 202: exit 1, the summary names the failed requirements and the cause. The secret in
    the target URL, in a header given through ``args`` and in the reader's environment appears in no step's output,
    in no report and not in the job summary."""
    receiver = serve(success_other_than_200(202))
    host = receiver.url.removeprefix("http://")
    try:
        run = runner.use(
            workspace,
            env={"READER_TOKEN": SECRET},  # the job's env, from the CI's secrets
            target_url=f"http://dlr:{SECRET}@{host}?token={SECRET}",
            seed="7",
            args=f'-k "DLR-01 or documented" --header "Authorization: Bearer {SECRET}"',
            state_cmd='test -n "$READER_TOKEN"',
        )
    finally:
        receiver.stop()
    assert run.exit_code == 1, run.log
    assert run.outputs == {"exit-code": "1"}
    assert run.markdown.startswith("## dlr-conformance: :x: NOT CONFORMANT (PARTIAL)\n")
    assert "### Failed requirements" in run.markdown
    assert "| DLR-01 | MUST | Every valid callback is answered with exactly 200 OK | 1 |" in run.markdown
    assert "| DLR-02 | MUST | The documented example callback is accepted | 1 |" in run.markdown
    assert "1. Answered with a success status other than 200 [202]: 2 deliveries; DLR-01, DLR-02" in run.markdown
    assert "exit code 1" in run.markdown
    assert f"target `http://dlr:***@{host}?token=***`" in run.markdown  # the URL with its secret was used, masked
    everything = run.log + run.markdown + "".join(p.read_text(encoding="utf-8") for p in workspace.rglob("*.*"))
    assert SECRET not in everything


def test_usage_errors_end_with_4_and_no_verdict(runner: Runner, workspace: Path) -> None:
    """A bad input is a usage error (exit 4) before anything is sent; an earlier run's summary in the workspace is
    not taken for this run's."""
    (workspace / "reports").mkdir()
    (workspace / "reports" / "summary.json").write_text('{"verdict": "conformant"}', encoding="utf-8")
    run = runner.use(workspace, strict="yes")
    assert run.exit_code == 4
    assert "the input strict must be true or false (got 'yes')" in run.log
    assert run.markdown.startswith("## dlr-conformance: no verdict\n\nUsage error (exit code 4)")
    assert not (workspace / "reports" / "summary.json").exists()


def test_failed_install_still_summarises(checkout: Path, workspace: Path) -> None:
    """The virtualenv cannot be made (here: RUNNER_TEMP is not a directory): the run is skipped, the summary says it
    did not start, the artifact step still runs, and the action fails."""
    run = Runner(checkout, Path(os.devnull) / "runner-temp").use(workspace)
    assert run.exit_code != 0
    assert run.outputs == {"exit-code": ""}
    assert "dlr-conformance: sending" not in run.log
    assert run.markdown.startswith("## dlr-conformance: no verdict\n\nThe run did not start")
    assert run.uploaded == REPORTS


@pytest.mark.parametrize(("name", "flag"), [("status-map", "--status-map"), ("require-checked", "--require-checked")])
def test_options_passed_only_when_set(runner: Runner, workspace: Path, name: str, flag: str) -> None:
    """``status-map`` and ``require-checked`` reach the tool as their options: a value the tool refuses is its usage
    error naming the option (empty, they are not passed at all: the other runs of this module)."""
    run = runner.use(workspace, **{name.replace("-", "_"): "does-not-exist"})
    assert run.exit_code == 4, run.log
    assert flag in run.log
    assert "Usage error" in run.markdown


def _summary_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("action_summary", ROOT / ".github" / "action" / "summary.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summary_when_the_run_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Installing failed, so the run step never ran: the summary says so, and an old summary.json is not read."""
    old = tmp_path / "summary.json"
    old.write_text('{"verdict": "conformant", "banner": "CONFORMANT"}', encoding="utf-8")
    monkeypatch.setenv("DLR_EXIT_CODE", "")
    module = _summary_module()
    assert module.main(["summary.py", str(old)]) == 0
    assert capsys.readouterr().out.startswith("## dlr-conformance: no verdict\n\nThe run did not start")
    assert module.code("a `b` c") == "``a `b` c``"
    assert module.cell("x | y") == "x \\| y"


def test_summary_carries_the_security_note_of_a_run_without_credentials() -> None:
    """The job summary repeats the JSON summary's security note, and says nothing of it when there is none."""
    module = _summary_module()
    note = "tested without credentials: anyone who learns it can forge delivery reports"
    base = {"verdict": "conformant", "banner": "CONFORMANT", "explanation": "Every MUST requirement passed."}
    assert f"**Security:** {note}" in module.markdown({**base, "security_note": note}, "0", "reports")
    assert "Security" not in module.markdown({**base, "security_note": None}, "0", "reports")
