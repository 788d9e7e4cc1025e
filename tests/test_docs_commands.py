"""The docs show only commands and options that exist, document every option that does, and link only to what exists.

Command lines (``dlr-conformance ...``, ``pytest ...``, ``python bench/....py ...``) and bare ``--flags`` are read
out of the fenced code blocks and the inline code of README.md, CONTRIBUTING.md, ARCHITECTURE.md and docs/, and
checked against the real parsers: each command's ``--help`` (in-process), pytest's ``--help`` with the plugin
loaded, and for a script of this repository, its source.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.cli import COMMANDS
from tests.support.cli import invoke

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").rglob("*.md"))]
OPTIONS_PAGE = ROOT / "docs" / "reference" / "options.md"
EXIT_CODES_PAGE = ROOT / "docs" / "reference" / "exit-codes.md"

FENCE = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.S | re.M)
FLAG = re.compile(r"--?[A-Za-z](?:[\w-]*[A-Za-z0-9])?")
# where a command starts: the start of a line or span, after a prompt, a YAML list item or key, a shell operator, an
# opening quote, or a path (.venv/bin/dlr-conformance); not the package named in a pip requirement
# ("dlr-conformance @ git+URL")
COMMAND = re.compile(
    r"(?:^|(?<=^- )|(?<=\$ )|(?<=run: )|(?<=nohup )|(?<=&& )|(?<=; )|(?<=\| )|(?<=['\"(/]))"
    r"(?P<name>dlr-conformance|pytest)(?=\s|$)(?!\s+@\s)",
    re.M,
)
SCRIPT = re.compile(r"(?:^|(?<=\s))(?P<name>(?:bench|scripts)/[\w/.-]+\.(?:py|sh))(?=\s|$)", re.M)
PLACEHOLDER = re.compile(r"\[.*\]|<.*>|\.\.\.|…")
REPO_PATH = re.compile(r"(?:docs|conformance|schema|bench|scripts)/[\w./-]*")


@dataclass
class Use:
    """A command or a bare flag shown in the docs: where, which command (``None``: any), the flags."""

    where: str
    command: str | None
    flags: list[str] = field(default_factory=list)
    subcommand: str = ""


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _blocks(text: str) -> list[str]:
    return [block.replace("\\\n", " ") for block in FENCE.findall(text)]


def _spans(text: str) -> list[str]:
    prose = FENCE.sub("", text)
    return [span.replace("\n", " ").strip() for span in re.findall(r"`([^`]+)`", prose)]


def _tokens(rest: str, quote: str) -> list[str]:
    """The words of a command line up to the end of its simple command, split like a shell would."""
    if quote and quote in rest:
        rest = rest[: rest.index(quote)]
    lexer = shlex.shlex(rest, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = []
    try:
        for token in lexer:
            if set(token) <= set("();<>|&"):
                break
            words.append(token)
    except ValueError:  # an unbalanced quote: what came before it is still the command's
        pass
    return words


def _flags(words: list[str]) -> list[str]:
    return [word.split("=", 1)[0] for word in words if FLAG.fullmatch(word.split("=", 1)[0])]


def uses_in(text: str, where: str) -> Iterator[Use]:
    """Every command line and bare flag that ``text`` (markdown) shows in code."""
    for chunk, inline in [(block, False) for block in _blocks(text)] + [(span, True) for span in _spans(text)]:
        for line in chunk.splitlines():
            first = line.split()[0] if line.split() else ""
            if inline and first in COMMANDS:  # `send --payload FILE`: a subcommand named on its own
                chunk = f"dlr-conformance {chunk}"
            elif FLAG.fullmatch(first.split("=", 1)[0]):  # options on their own, to add to a command
                yield Use(where, None, _flags(_tokens(line.strip(), "")))
        for match in COMMAND.finditer(chunk):
            start = match.start()
            quote = chunk[start - 1] if start and chunk[start - 1] in "'\"" else ""
            words = _tokens(chunk[match.end() :].split("\n", 1)[0], quote)
            use = Use(where, match["name"])
            if use.command == "dlr-conformance" and words and not words[0].startswith("-"):
                use.subcommand = words.pop(0)
            use.flags = _flags(words)
            yield use
        for match in SCRIPT.finditer(chunk):
            yield Use(where, match["name"], _flags(_tokens(chunk[match.end() :].split("\n", 1)[0], "")))


def _help_flags(text: str) -> set[str]:
    """The options an argparse or pytest help text lists (the lines that start with an option)."""
    found = set()
    for line in text.splitlines():
        if re.match(r"^\s{1,6}-", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            found.update(FLAG.findall(head))
    return found


@pytest.fixture(scope="module")
def parsers() -> dict[str, set[str]]:
    """Each command's options, from its own --help run in-process (``""``: the suite run)."""
    found = {}
    for command in ["", *COMMANDS]:
        done = invoke(*([command, "--help"] if command else ["--help"]))
        assert done.code == 0
        found[command] = _help_flags(done.stdout)
        assert "--help" in found[command], f"no options read from {command or 'the suite'}'s --help"
    found["run"] = found[""]
    return found


@pytest.fixture(scope="module")
def pytest_help(tmp_path_factory: pytest.TempPathFactory) -> str:
    """pytest's --help with the installed plugins, this one included, run in-process in an empty directory."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.chdir(tmp_path_factory.mktemp("help"))
        assert pytest.main(["--help", "-p", "no:cacheprovider"]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def pytest_flags(pytest_help: str) -> set[str]:
    flags = _help_flags(pytest_help)
    assert "--dlr-target-url" in flags
    return flags


def problems(uses: list[Use], parsers: dict[str, set[str]], pytest_flags: set[str]) -> list[str]:
    """What the docs show that does not exist, one line each."""
    everything = set().union(*parsers.values(), pytest_flags)
    found = []
    for use in uses:
        if use.command is None:
            known, what = everything, "any command"
        elif use.command == "pytest":
            known, what = pytest_flags, "pytest"
        elif use.command == "dlr-conformance":
            if use.subcommand and use.subcommand not in parsers and not PLACEHOLDER.fullmatch(use.subcommand):
                found.append(f"{use.where}: dlr-conformance has no command {use.subcommand!r}")
                continue
            sub = use.subcommand if use.subcommand in parsers else ""
            known, what = parsers[sub], f"dlr-conformance {sub}".strip()
        else:  # a script of this repository: its flags are in its source
            source = _text(ROOT / use.command)
            known, what = {f for f in use.flags if f'"{f}"' in source}, use.command
        found += [f"{use.where}: {what} has no option {flag}" for flag in use.flags if flag not in known]
    return found


def _all_uses() -> list[Use]:
    return [use for path in DOCS for use in uses_in(_text(path), str(path.relative_to(ROOT)))]


def test_the_docs_show_commands(parsers: dict[str, set[str]]) -> None:
    """The scan finds what it is meant to check: commands of every kind, with their flags."""
    uses = _all_uses()
    assert {use.subcommand for use in uses if use.command == "dlr-conformance"} >= {"", *COMMANDS}
    assert any(use.command == "pytest" and "--dlr-target-url" in use.flags for use in uses)
    assert any(use.command is None and "--max-rps" in use.flags for use in uses)
    assert any(use.command == "bench/bench.py" for use in uses)
    assert sum(len(use.flags) for use in uses) > 300


def test_every_command_and_option_shown_exists(parsers: dict[str, set[str]], pytest_flags: set[str]) -> None:
    assert problems(_all_uses(), parsers, pytest_flags) == []


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "```sh\ndlr-conformance --target-url URL --no-such-option\n```",
            "dlr-conformance has no option --no-such-option",
        ),
        ("Run `dlr-conformance send URL --shiny` now.", "dlr-conformance send has no option --shiny"),
        ("Give `--made-up N`.", "any command has no option --made-up"),
        ("```yaml\n  - 'dlr-conformance --seed 1 --sead 2'\n```", "dlr-conformance has no option --sead"),
        ("```sh\npytest --pyargs conformance.suite --dlr-targt-url x\n```", "pytest has no option --dlr-targt-url"),
        ("```sh\ndlr-conformance \\\n  --strict --strickt\n```", "dlr-conformance has no option --strickt"),
        ("`dlr-conformance lint capture.jsonl`", "dlr-conformance has no command 'lint'"),
        ("```sh\npython bench/bench.py --pears 5\n```", "bench/bench.py has no option --pears"),
        ("`stored --db FILE --prepared`", "dlr-conformance stored has no option --prepared"),
    ],
)
def test_a_made_up_command_or_option_is_caught(
    markdown: str, expected: str, parsers: dict[str, set[str]], pytest_flags: set[str]
) -> None:
    assert problems(list(uses_in(markdown, "doc")), parsers, pytest_flags) == [f"doc: {expected}"]


def test_real_options_are_not_flagged(parsers: dict[str, set[str]], pytest_flags: set[str]) -> None:
    markdown = (
        "```sh\n.venv/bin/dlr-conformance -k generated --examples=5 -q && dlr-conformance load --rate 5 | tee x\n"
        "pytest --pyargs conformance.suite --dlr-strict -p no:dlr_progress\n```\n"
        "`--state-cmd 'dlr-conformance stored --db x.sqlite3'`, `dlr-conformance: 5 sent`, `dlr-conformance/0.1.0`"
    )
    uses = list(uses_in(markdown, "doc"))
    assert problems(uses, parsers, pytest_flags) == []
    assert [(use.command, use.subcommand) for use in uses if use.command] == [
        ("dlr-conformance", ""),
        ("dlr-conformance", "load"),
        ("pytest", ""),
        ("dlr-conformance", "stored"),
    ]


def test_every_option_of_every_command_is_documented(parsers: dict[str, set[str]], pytest_flags: set[str]) -> None:
    """docs/reference/options.md lists every option of every parser, and every --dlr- option of the plugin."""
    page = _text(OPTIONS_PAGE)
    documented = set(FLAG.findall(" ".join(_spans(page))))
    missing = {
        f"{command or 'the suite'}: {flag}"
        for command, flags in parsers.items()
        for flag in flags - {"-h", "--help"}
        if flag not in documented
    }
    missing |= {f"pytest: {flag}" for flag in pytest_flags if flag.startswith("--dlr-") and flag not in documented}
    assert not missing


def test_every_ini_key_documented_exists(pytest_help: str) -> None:
    ini = set(re.findall(r"^\s+(\w+) \(\w+\):", pytest_help, re.M))
    assert "dlr_target_url" in ini
    table = _text(OPTIONS_PAGE).split("### Environment variables and ini keys", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"`(dlr_\w+)`", table))
    assert documented
    assert documented <= ini
    assert {key for key in ini if key.startswith("dlr_")} <= documented


def test_every_environment_variable_shown_exists() -> None:
    """``DLR_*`` names in the docs are read by the code, or defined by the recipe that uses them."""
    code = " ".join(_text(path) for path in (ROOT / "conformance").rglob("*.py"))
    for path in DOCS:
        text = _text(path)
        defined = set(re.findall(r"\b(DLR_[A-Z_]+)\s*[:=]", "\n".join(_blocks(text))))
        for name in set(re.findall(r"\bDLR_[A-Z][A-Z_]*[A-Z]\b", text)) - defined:
            assert f'"{name}"' in code, (
                f"{path.relative_to(ROOT)}: {name} is not an environment variable the tool reads"
            )


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in FENCE.sub("", _text(path)).splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_paths_resolve(path: Path) -> None:
    """Every relative link leads to a file (and heading) that exists; every repository path named in code exists."""
    text = _text(path)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    for span in _spans(text):
        if REPO_PATH.fullmatch(span) and not (ROOT / span).exists():
            broken.append(f"`{span}`: no such path")
    assert not broken


def test_usage_error_exit_codes_are_as_documented() -> None:
    """The usage-error column of docs/reference/exit-codes.md is what each command returns for an unknown option."""
    rows = [line for line in _text(EXIT_CODES_PAGE).splitlines() if line.startswith("| `dlr-conformance")]
    assert len(rows) == len(COMMANDS) + 1
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        command = cells[0].strip("`").split()[1:2]
        codes = [code for code, cell in zip(range(5), cells[1:], strict=True) if "usage error" in cell]
        got = invoke(*command, "--no-such-option").code
        assert codes == [got], f"{cells[0]}: a usage error exits {got}, the page says {codes}"


def test_the_code_names_only_docs_that_exist() -> None:
    """Help texts, messages and docstrings that point a reader at a doc point at one that exists."""
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "conformance").rglob("*.py")
        for name in re.findall(r"\b(?:docs/[\w/.-]+\.md|[A-Z]+\.md)\b", _text(path))
        if not (ROOT / name).exists()
    }
    assert not missing
