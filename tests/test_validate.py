"""``dlr-conformance validate``, in-process through ``main(argv)``; Ctrl-C through the installed command."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, invoke
from tests.support.process import CLI, Process

EXAMPLES = Path(__file__).resolve().parent.parent / "schema" / "examples"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
ORIGINAL = EXAMPLES / "invalid" / "documented-example-original.json"
INVALID = sorted(p for p in (EXAMPLES / "invalid").glob("*.json") if p != ORIGINAL)
DOCUMENTED = EXAMPLES / "valid" / "documented-example.json"

# file: path: reason -- the path is "$" or like data[0].to
ERROR_LINE = re.compile(r"^(?P<file>.+?): (?P<path>\$|[a-z_]+(?:\[\d+\]|\.[a-z_]+)*): (?P<reason>\S.*)$")


def validate(*args: str | Path, stdin: bytes | str = b"", cwd: Path | None = None) -> Result:
    """Run ``dlr-conformance validate ARGS`` and check it never shows a traceback."""
    result = invoke("validate", *args, stdin=stdin, cwd=cwd)
    assert "Traceback" not in result.output
    return result


def write(folder: Path, name: str, body: Any) -> Path:
    """A payload file in ``folder``; a str is written as it is, anything else as JSON."""
    path = folder / name
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return path


def documented(**record: Any) -> dict[str, Any]:
    """The documented example with fields of its record replaced."""
    body: dict[str, Any] = json.loads(DOCUMENTED.read_text(encoding="utf-8"))
    body["data"][0].update(record)
    return body


def test_the_command_is_installed_next_to_python() -> None:
    assert CLI.is_file()


def test_ctrl_c_while_reading_exits_2(tmp_path: Path) -> None:
    """Interrupted while it waits for a file's content (a FIFO nobody writes to): exit 2, one line, as every command."""
    fifo = tmp_path / "capture.jsonl"
    os.mkfifo(fifo)
    with Process([CLI, "validate", fifo]) as process:
        opened: list[Any] = []
        writer = threading.Thread(target=lambda: opened.append(open(fifo, "wb")), daemon=True)  # noqa: SIM115
        writer.start()
        writer.join(30)  # returns once the command has opened the FIFO: it now waits for data
        assert opened, "validate never opened the file"
        process.interrupt()
        done = process.wait(30)
        opened[0].close()
    assert done.code == 2, done.output
    assert done.stderr == "dlr-conformance validate: interrupted\n"
    assert done.stdout == ""


def test_valid_files_exit_0_with_one_line_each() -> None:
    result = validate(*VALID)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{p}: valid" for p in VALID]
    assert result.stderr == ""


def test_the_documented_error_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.json", documented(to="0123"))
    result = validate("bad.json", cwd=tmp_path)
    assert result.code == 1
    assert result.stdout == 'bad.json: data[0].to: must be 7 to 15 digits, the first not 0 (got "0123")\n'


def test_invalid_examples_exit_1_and_each_line_names_file_path_and_reason() -> None:
    result = validate(*INVALID)
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(INVALID)  # each example breaks exactly one rule
    for path, line in zip(INVALID, lines, strict=True):
        match = ERROR_LINE.match(line)
        assert match, line
        assert match["file"] == str(path)
        raw = (
            "is not valid under any of",
            "is a required property",
            "does not match",
            "is not one of",
            "is not of type",
        )
        assert not any(phrase in match["reason"] for phrase in raw), line  # jsonschema's own wording


def test_every_error_of_a_file_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path, "three.json", documented(to="0123", type=5, status="", error_code="943"))
    result = validate("three.json", cwd=tmp_path)
    assert result.code == 1
    assert result.stdout.splitlines() == [
        "three.json: data[0].type: must be a string (got 5)",
        "three.json: data[0].status: must not be empty",
        'three.json: data[0].to: must be 7 to 15 digits, the first not 0 (got "0123")',
        'three.json: data[0].error_code: must be an integer (got "943")',
    ]


def test_malformed_json_exits_1_naming_line_and_column() -> None:
    result = validate(ORIGINAL)
    assert result.code == 1
    assert result.stdout == f"{ORIGINAL}: not well-formed JSON at line 2, column 53: Expecting ',' delimiter\n"


def test_text_that_is_not_utf8_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes(b'{\n "api_job_id": "caf\xe9"}')
    result = validate("latin1.json", cwd=tmp_path)
    assert result.code == 1
    assert result.stdout.startswith("latin1.json: not well-formed JSON at line 2, column 20: byte 0xe9 is not UTF-8")


def test_missing_file_exits_4_with_one_line(tmp_path: Path) -> None:
    result = validate("nope.json", cwd=tmp_path)
    assert result.code == 4
    assert result.stdout == ""
    assert result.stderr == "nope.json: cannot read the file: No such file or directory; check the path\n"


def test_a_folder_is_unreadable(tmp_path: Path) -> None:
    result = validate(tmp_path)
    assert result.code == 4
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{tmp_path}: cannot read the file: ")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param((), "give at least one FILE, or - to read standard input", id="no-file"),
        pytest.param(("--strict", str(DOCUMENTED)), "unrecognized arguments: --strict", id="unknown-option"),
        pytest.param(("--format", "xml", str(DOCUMENTED)), "invalid choice: 'xml'", id="bad-format"),
        pytest.param(("--format",), "expected one argument", id="format-without-value"),
    ],
)
def test_bad_arguments_exit_4_with_one_line(args: tuple[str, ...], says: str) -> None:
    """A usage error exits 4, as for every command (2 means interrupted)."""
    result = validate(*args)
    assert result.code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("dlr-conformance validate: ")
    assert says in result.stderr


def test_help_exits_0() -> None:
    result = validate("--help")
    assert result.code == 0
    assert "--format" in result.stdout


def test_stdin_valid() -> None:
    result = validate("-", stdin=DOCUMENTED.read_bytes())
    assert result.code == 0
    assert result.stdout == "<stdin>: valid\n"


@pytest.mark.parametrize("text", ["[]", "42", '"callback"', "null"])
def test_stdin_payload_that_is_not_an_object_is_invalid(text: str) -> None:
    result = validate("-", stdin=text)
    assert result.code == 1
    assert result.stdout == f"<stdin>: $: the payload must be a JSON object {{...}} (got {text})\n"


def test_stdin_empty_is_malformed() -> None:
    result = validate("-", stdin="")
    assert result.code == 1
    assert result.stdout.startswith("<stdin>: not well-formed JSON at line 1, column 1: ")


def test_mixed_valid_and_invalid_exits_1_and_reports_each(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", documented(status=""))
    result = validate(DOCUMENTED, bad, ORIGINAL)
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{DOCUMENTED}: valid"
    assert lines[1] == f"{bad}: data[0].status: must not be empty"
    assert lines[2].startswith(f"{ORIGINAL}: not well-formed JSON at line 2, column 53")
    assert len(lines) == 3


def test_an_unreadable_file_wins_over_invalid_ones_and_the_rest_are_still_checked(tmp_path: Path) -> None:
    result = validate(DOCUMENTED, tmp_path / "nope.json", INVALID[0])
    assert result.code == 4
    assert result.stdout.splitlines()[0] == f"{DOCUMENTED}: valid"
    assert result.stdout.splitlines()[1].startswith(f"{INVALID[0]}: ")
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'nope.json'}: cannot read the file: No such file or directory; check the path"
    ]


def test_format_json_describes_each_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", documented(to="0123", error_code=40000))
    missing = tmp_path / "nope.json"
    result = validate("--format", "json", DOCUMENTED, bad, ORIGINAL, missing, "-", stdin="[]")
    assert result.code == 4
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["schema"].startswith("draft-07 sha256:")
    by_file = {entry["file"]: entry for entry in report["files"]}
    assert list(by_file) == [str(DOCUMENTED), str(bad), str(ORIGINAL), str(missing), "<stdin>"]
    assert by_file[str(DOCUMENTED)] == {
        "file": str(DOCUMENTED),
        "valid": True,
        "errors": [],
        "malformed": None,
        "unreadable": None,
    }
    assert by_file[str(bad)]["valid"] is False
    assert by_file[str(bad)]["errors"] == [
        {"path": "data[0].to", "message": 'must be 7 to 15 digits, the first not 0 (got "0123")'},
        {"path": "data[0].error_code", "message": "must fit in a short, -32768 to 32767 (got 40000)"},
    ]
    assert by_file[str(ORIGINAL)]["malformed"] == {"line": 2, "column": 53, "reason": "Expecting ',' delimiter"}
    assert by_file[str(ORIGINAL)]["errors"] == []
    assert by_file[str(missing)]["unreadable"] == "No such file or directory; check the path"
    assert by_file["<stdin>"]["errors"][0]["path"] == "$"
    assert result.stderr.count("\n") == 1


def test_format_json_all_valid_exits_0() -> None:
    result = validate("--format", "json", *VALID)
    assert result.code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert [entry["valid"] for entry in report["files"]] == [True] * len(VALID)
