"""The plugin is installed in every pytest session of the environment: in one that does not run the suite it adds
nothing but its ``--dlr-`` options (no marker, no fixture, no report, no output), and no name it registers can
clash with another plugin's or a project's own."""

from __future__ import annotations

import pytest

from conformance.options import INI_TARGET_URL, OPTIONS

UNRELATED = """
import pytest

def test_plain():
    assert 1 + 1 == 2
"""


HEADER = ("plugins:", "metadata:")


def _unrelated_project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    pytester.makepyfile(test_unrelated=UNRELATED)


def _assert_untouched(pytester: pytest.Pytester, output: str) -> None:
    said = [line for line in output.splitlines() if "dlr-conformance" in line and not line.startswith(HEADER)]
    assert said == []  # pytest's header (and pytest-metadata's) names the installed plugin; nothing else may
    assert not (pytester.path / "reports").exists()


def test_plugin_is_loaded_but_silent(pytester: pytest.Pytester) -> None:
    _unrelated_project(pytester)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert pytester.parseconfig().pluginmanager.hasplugin("dlr_conformance")  # installed, so loaded
    _assert_untouched(pytester, result.stdout.str() + result.stderr.str())


def test_no_fixture_leaks_into_other_sessions(pytester: pytest.Pytester) -> None:
    """Another project's test asking for the suite's driver must not get it: the fixtures exist only in a suite run."""
    _unrelated_project(pytester)
    pytester.makepyfile(test_uses_driver="def test_needs(dlr_driver):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'dlr_driver' not found*"])
    fixtures = pytester.runpytest("--fixtures").stdout.str()
    assert "dlr_run" not in fixtures
    assert "conformance/pytest/plugin.py" not in fixtures


def test_no_marker_leaks_into_other_sessions(pytester: pytest.Pytester) -> None:
    """With --strict-markers, another project's unregistered ``requirement`` marker stays an error.

    In a subprocess: pytest caches known marker names process-wide, and this project's own session knows it."""
    _unrelated_project(pytester)
    pytester.makepyfile(test_marked="import pytest\n\n@pytest.mark.requirement('R1')\ndef test_m():\n    pass\n")
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(["*'requirement' not found in `markers` configuration option*"])
    assert "requirement(id" not in pytester.runpytest_subprocess("--markers").stdout.str()


def test_another_projects_conformance_suite_folder_is_not_the_suite(pytester: pytest.Pytester) -> None:
    """A project with its own ``conformance/suite`` tests (or module of that name) runs as a plain session."""
    pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    pytester.mkdir("conformance")
    suite = pytester.mkdir("conformance/suite")
    (suite / "test_theirs.py").write_text(UNRELATED, encoding="utf-8")
    result = pytester.runpytest("conformance/suite")
    result.assert_outcomes(passed=1)
    _assert_untouched(pytester, result.stdout.str())


def test_a_project_may_own_every_short_option_name(pytester: pytest.Pytester) -> None:
    """Every option name the CLI uses (``--timeout``, ``--seed``, ``--json`` ...) is free for other plugins."""
    # pytest itself owns --strict (an alias of --strict-markers): no plugin can register it, ours is --dlr-strict
    flags = sorted({flag for option in OPTIONS for flag in option.flags} - {"--strict"})
    assert {"--timeout", "--seed", "--examples", "--header", "--json"} <= set(flags)
    lines = "\n".join(
        f"    parser.addoption({flag!r}, dest={'theirs_' + flag[2:].replace('-', '_')!r})" for flag in flags
    )
    pytester.makeconftest(f"def pytest_addoption(parser):\n{lines}\n    parser.addini('target_url', 'theirs')\n")
    _unrelated_project(pytester)
    result = pytester.runpytest("--timeout", "5", "--seed", "1", "--json", "x.json")
    result.assert_outcomes(passed=1)
    _assert_untouched(pytester, result.stdout.str())


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.dest)
def test_every_plugin_option_is_namespaced(option: object) -> None:
    assert option.plugin_flag.startswith("--dlr-")  # type: ignore[attr-defined]
    assert option.dest.startswith("dlr_")  # type: ignore[attr-defined]
    assert INI_TARGET_URL.startswith("dlr_")
