"""Where the reader and preparer come from: command line, then DLR_STATE_CMD / DLR_PREPARE_CMD, then the ini keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.stateful import StatefulReceiver, write_status_map

BROKEN = "echo 'from the {source}' >&2; exit 9"


def _run(pytester: pytest.Pytester, url: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--pyargs", "conformance.suite", "--dlr-target-url", url, "-k", "documented", *args)


def test_ini_key_is_read(pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver]) -> None:
    """The ini key alone configures the reader: a broken one is reported before anything is sent (exit 4)."""
    pytester.makeini(f"[pytest]\ndlr_state_cmd = {BROKEN.format(source='ini key')}\n")
    result = _run(pytester, stateful().url)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--state-cmd: the state reader (--state-cmd) exited with status 9*from the ini key*"])


def test_environment_beats_ini_and_command_line_beats_both(
    pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DLR_STATE_CMD overrides the ini key; --dlr-state-cmd overrides DLR_STATE_CMD."""
    receiver = stateful()
    pytester.makeini(f"[pytest]\ndlr_state_cmd = {BROKEN.format(source='ini key')}\n")
    monkeypatch.setenv("DLR_STATE_CMD", receiver.reader)
    assert _run(pytester, receiver.url).ret == 0
    monkeypatch.setenv("DLR_STATE_CMD", BROKEN.format(source="environment"))
    result = _run(pytester, receiver.url)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*from the environment*"])
    assert _run(pytester, receiver.url, "--dlr-state-cmd", receiver.reader).ret == 0


def test_prepare_command_from_the_environment(
    pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DLR_PREPARE_CMD configures the preparer; failing before the first delivery it stops the run (exit 4)."""
    monkeypatch.setenv("DLR_PREPARE_CMD", BROKEN.format(source="preparer"))
    result = _run(pytester, stateful().url)
    assert result.ret == 4
    assert "from the preparer" in result.stdout.str() + result.stderr.str()


def test_require_checked_from_the_ini_key_and_the_plugin_flag(
    pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver]
) -> None:
    """dlr_require_checked (ini) and --dlr-require-checked fail a run that leaves those requirements not checked."""
    receiver = stateful()
    pytester.makeini("[pytest]\ndlr_require_checked = DLR-02\n")
    assert _run(pytester, receiver.url).ret == 0  # the documented example is checked
    result = _run(pytester, receiver.url, "--dlr-require-checked", "stored-state")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*--require-checked: DLR-13..16, DLR-22 not checked, so the run fails*"])
    pytester.makeini("[pytest]\ndlr_require_checked = DLR-13\n")
    assert _run(pytester, receiver.url).ret == 1


@pytest.mark.parametrize("source", ["flag", "environment", "ini key"])
def test_status_map_from_every_source(
    source: str, pytester: pytest.Pytester, stateful: Callable[..., StatefulReceiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status map through --dlr-status-map, DLR_STATUS_MAP or the dlr_status_map ini key: a bad one stops the
    run with exit 4 and one line naming where it came from; a good one judges DLR-19."""
    receiver = stateful("words")
    bad = pytester.path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    good = write_status_map(pytester.path / "words.json")
    args = ("--dlr-state-cmd", receiver.reader, "-k", "recognised")

    def run(path: str) -> pytest.RunResult:
        if source == "flag":
            return _run(pytester, receiver.url, *args, "--dlr-status-map", path)
        if source == "environment":
            monkeypatch.setenv("DLR_STATUS_MAP", path)
        else:
            pytester.makeini(f"[pytest]\ndlr_status_map = {path}\n")
        return _run(pytester, receiver.url, *args)

    result = run(str(bad))
    assert result.ret == 4
    errors = [line for line in result.stderr.lines if "must hold a JSON object" in line]
    assert len(errors) == 1, result.stderr.str()
    if source != "flag":
        assert {"environment": "DLR_STATUS_MAP", "ini key": "dlr_status_map"}[source] in errors[0]
    result = run(good)
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=1)
