"""The wheel: it carries the schema, the examples and the entry points, and works installed on its own.

Built and installed with no package index (the wheelhouse that scripts/test.sh prepares), so that the test suite
runs from the already-built environment.
"""

from __future__ import annotations

import configparser
import zipfile
from pathlib import Path

import pytest

from tests.support.process import run as run_process
from tests.support.tools import ROOT, offline_env, run

SCHEMA = ROOT / "schema"


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    """The paths inside the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _entry_points(wheel: Path) -> configparser.ConfigParser:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(name).decode("utf-8")
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names as written
    parser.read_string(text)
    return parser


def test_wheel_carries_the_schema(wheel_names: set[str]) -> None:
    assert "conformance/schema/callback.schema.json" in wheel_names
    assert "conformance/contract/schema.py" in wheel_names
    assert not any(name.startswith(("tests/", "schema/")) for name in wheel_names)


def test_wheel_carries_every_example(wheel_names: set[str]) -> None:
    examples = sorted(p.relative_to(SCHEMA).as_posix() for p in (SCHEMA / "examples").glob("*/*.json"))
    assert examples
    for example in examples:
        assert f"conformance/schema/{example}" in wheel_names


def test_wheel_declares_the_entry_points(wheel: Path) -> None:
    entry_points = _entry_points(wheel)
    assert entry_points["console_scripts"]["dlr-conformance"] == "conformance.cli:main"
    assert entry_points["pytest11"]["dlr_conformance"] == "conformance.pytest.plugin"


def test_installed_wheel_validates_with_its_own_schema(installed: Path, tmp_path: Path) -> None:
    venv = installed.parent
    env = offline_env()
    python = installed / "python"

    # cwd is tmp_path: nothing of the source tree is importable, so the schema must come from the package.
    where = run(
        [python, "-c", "from conformance import contract; print(contract.schema_dir())"],
        cwd=tmp_path,
        timeout=60,
        env=env,
    ).strip()
    schema_dir = Path(where)
    assert schema_dir.is_relative_to(venv), schema_dir
    assert not schema_dir.is_relative_to(ROOT)
    assert (schema_dir / "callback.schema.json").read_bytes() == (SCHEMA / "callback.schema.json").read_bytes()

    cli = installed / "dlr-conformance"
    valid = schema_dir / "examples" / "valid" / "documented-example.json"
    assert run([cli, "validate", valid], cwd=tmp_path, timeout=60, env=env) == f"{valid}: valid\n"

    invalid = schema_dir / "examples" / "invalid" / "to-too-short.json"
    proc = run_process([cli, "validate", invalid], cwd=tmp_path, timeout=60, env=env)
    assert proc.code == 1
    assert proc.stdout == f'{invalid}: data[0].to: must be 7 to 15 digits, the first not 0 (got "123456")\n'
    assert "Traceback" not in proc.stderr
