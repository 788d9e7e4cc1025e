"""Bad input: exit 4 and one line on stderr that names the offending value and says what to do."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.process import CLI, run

if TYPE_CHECKING:
    from tests.support.runs import SuiteRun

CASES = [
    # (arguments, words the error must contain)
    (["--target-url", "example.com/dlr"], ["--target-url", "'example.com/dlr'", "http:// or https://"]),
    (["--target-url", "ftp://example.com/dlr"], ["--target-url", "'ftp://example.com/dlr'", "http:// or https://"]),
    (["--target-url", "http:///dlr"], ["--target-url", "no host name", "https://host.example/dlr"]),
    (["--target-url", "http://example.com:99999/dlr"], ["--target-url", "'99999'", "1 to 65535"]),
    (["--target-url", "http://[::1/dlr"], ["--target-url", "not a valid URL", "https://host.example/dlr"]),
    (["--target-url", "http://exa mple.com/dlr"], ["--target-url", "spaces", "percent-encode"]),
    (["--examples", "-5"], ["--examples", "'-5'", "at least 1"]),
    (["--examples", "ten"], ["--examples", "'ten'", "whole number"]),
    (["--timeout", "0"], ["--timeout", "'0'", "greater than 0"]),
    (["--max-rps", "-1"], ["--max-rps", "'-1'", "greater than 0"]),
    (["--concurrency", "100000"], ["--concurrency", "'100000'", "1 to 1000"]),
    (["--header", "Bad Name: x"], ["--header", "'Bad Name'", "letters, digits"]),
    (["--header", "Content-Length: 3"], ["--header", "'Content-Length'", "leave that header out"]),
    (["--timeout"], ["--timeout", "expected one argument"]),
    (["--no-such-option"], ["--no-such-option", "--help"]),
]


def _assert_one_line_error(run: SuiteRun, words: list[str]) -> None:
    assert run.code == 4, (run.code, run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("dlr-conformance: error: ")
    assert "Traceback" not in run.stderr
    assert "usage:" not in run.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_option_exits_4_with_one_line(args: list[str], words: list[str], cli: Callable[..., SuiteRun]) -> None:
    """Each bad value: exit 4, one line naming the option and the value, and what to do instead."""
    _assert_one_line_error(cli(*args, limit=60), words)


@pytest.mark.parametrize("kind", ["missing", "directory", "not-pem", "broken-pem"])
def test_bad_ca_bundle_exits_4(kind: str, tmp_path: Path, cli: Callable[..., SuiteRun]) -> None:
    """A CA bundle that is missing, a directory, not PEM, or PEM that OpenSSL rejects."""
    path = tmp_path / "ca.pem"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-pem":
        path.write_text("just some text\n")
    elif kind == "broken-pem":
        path.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    expected = {
        "missing": "does not exist",
        "directory": "is a directory",
        "not-pem": "holds no PEM certificate",
        "broken-pem": "not a valid PEM CA bundle",
    }[kind]
    _assert_one_line_error(cli("--ca-bundle", str(path), limit=60), ["--ca-bundle", repr(str(path)), expected])


def test_unreadable_ca_bundle_exits_4(tmp_path: Path) -> None:
    """A CA bundle without read permission: the installed command, as a user who may not read it.

    Root reads every file, so as root the command runs without the two capabilities that let it (still root, so it
    reaches the checkout's virtualenv wherever that lives, even in a folder only root may enter).
    """
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    path.chmod(0)
    command: list[str | Path] = [CLI, "--ca-bundle", path]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "util-linux's setpriv runs the command without the capability to read any file"
        unprivileged = "-dac_override,-dac_read_search"
        command = [setpriv, f"--inh-caps={unprivileged}", f"--bounding-set={unprivileged}", *command]
    try:
        done = run(command, cwd=tmp_path, timeout=60)
    finally:
        path.chmod(0o600)
    assert done.code == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--ca-bundle" in lines[0]
    assert "cannot be read (Permission denied)" in lines[0]
    assert "Traceback" not in done.output


def test_errors_never_echo_secrets(cli: Callable[..., SuiteRun]) -> None:
    """A rejected URL or header is named without the password, the query string or the header value."""
    run = cli("--target-url", "ftp://user:pw-S3CRET@example.com/dlr?token=T0KEN-S3CRET", limit=60)
    _assert_one_line_error(run, ["--target-url", "ftp://user:***@example.com/dlr?token=***"])
    run = cli("--header", "Authorization Bearer HEADER-S3CRET", limit=60)
    _assert_one_line_error(run, ["--header", "Name: value"])
    assert "S3CRET" not in run.stderr


def test_pytest_plugin_path_exits_4(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through pytest itself: an unsupported scheme is a usage error (exit 4) with a clear message."""
    for name in [name for name in os.environ if name.startswith("DLR_")]:
        monkeypatch.delenv(name)
    suite = ("--pyargs", "conformance.suite", "-p", "no:cacheprovider")
    result = pytester.runpytest(*suite, "--dlr-target-url", "ftp://x")
    assert result.ret == 4, "\n".join(result.outlines + result.errlines)
    assert "--dlr-target-url: must start with http:// or https:// (got 'ftp://x')" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    monkeypatch.setenv("DLR_TARGET_URL", "ftp://y")
    result = pytester.runpytest(*suite)
    assert result.ret == 4, "\n".join(result.outlines + result.errlines)
    assert "the DLR_TARGET_URL environment variable must start with http:// or https:// (got 'ftp://y')" in (
        result.stderr.str()
    )
    assert not (pytester.path / "reports").exists()  # nothing was run


def test_serve_bad_port_exits_4(cli: Callable[..., SuiteRun]) -> None:
    """``dlr-conformance serve`` with a port out of range: exit 4 and one line, no traceback."""
    run = cli("serve", "--port", "70000", limit=60)
    assert run.code == 4
    assert run.stderr.splitlines() == [
        "dlr-conformance serve: error: --port must be a number from 0 to 65535 (got '70000')."
    ]
