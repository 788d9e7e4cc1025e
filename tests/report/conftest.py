"""Fixtures of the report tests: real runs of the command, a faulty receiver, headless Chromium.

The runs are session-scoped: each fires the suite at a real server, and the HTML, JUnit and JSON tests all read
the same three reports, as a customer would. The HTML is judged as a browser renders it: pytest-html 4 builds
its results table with JavaScript, so a report can look fine as a file and still show nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.process import run
from tests.support.runs import UNHURRIED, SuiteRun, run_suite
from tests.support.servers import Arrival, Recorder, Reply

# What the faulty receiver answers: markup that, were it ever inserted as markup, marks the page it ran in.
HOSTILE_BODY = (
    '<script>document.documentElement.setAttribute("data-pwned", "script")</script>'
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned', 'img')\"><b>bold"
)
HOSTILE_HEADER = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned', 'header')\">"

# secrets of the masking run: the receiver echoes them back, the reports must not show them
URL_TOKEN = "url-token-7f3a9c"
BEARER = "bearer-secret-51d2e8"

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--virtual-time-budget=5000",
)


# -- a faulty receiver --------------------------------------------------------------------------------------------
def faulty(
    status: int = 202,
    body: str = HOSTILE_BODY,
    header: str = HOSTILE_HEADER,
    *,
    echo: list[str] | None = None,
    only_if: bytes = b"",
) -> Recorder:
    """A callback receiver answering every POST with one status, a hostile body and header (not started).

    ``only_if``: answer ``status`` only to callbacks containing these bytes, 200 to the others. ``echo``: repeat
    what it was sent (the path and the Authorization header, secrets included), and keep each echo in that list.
    """

    def respond(arrival: Arrival, index: int) -> Reply:
        if only_if and only_if not in arrival.body:
            return 200, {}, b""
        text = body
        if echo is not None:  # a receiver that repeats what it was sent, secrets included
            text += f" path={arrival.path} authorization={arrival.headers.get('Authorization')}"
            echo.append(text)
        return status, {"Content-Type": "text/html; charset=utf-8", "X-Hostile": header}, text.encode("utf-8")

    return Recorder(respond, path="/callback")


# -- runs of the command ------------------------------------------------------------------------------------------
def run_cli(folder: Path, *args: str, target: str = "") -> SuiteRun:
    """Run ``dlr-conformance`` in ``folder`` with explicit report paths and a fixed seed, as a customer would."""
    return run_suite(folder, target or None, "--seed", "12345", *args)


@pytest.fixture(scope="session")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """A run against the bundled reference receiver: conformant."""
    return run_cli(tmp_path_factory.mktemp("passing"), "--examples", "30", *UNHURRIED)


@pytest.fixture(scope="session")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRun]:
    """A run against a receiver answering 202 with a hostile body to everything; a burst above the evidence cap."""
    with faulty() as receiver:
        yield run_cli(
            tmp_path_factory.mktemp("failing"),
            "--examples",
            "30",
            "--retry-interval",
            "0",
            "--concurrency",
            "30",
            target=receiver.url,
        )


@pytest.fixture(scope="session")
def should_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRun]:
    """A full run against a receiver whose only fault is a SHOULD one: it refuses an unknown top-level field."""
    with faulty(422, "extra fields not permitted", only_if=b'"x_new_field"') as receiver:
        yield run_cli(
            tmp_path_factory.mktemp("should"), "--examples", "5", "--retry-interval", "0", target=receiver.url
        )


@pytest.fixture(scope="session")
def partial_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """``-k documented`` against the bundled reference receiver: conformant, but partial."""
    return run_cli(tmp_path_factory.mktemp("partial"), "-k", "documented", *UNHURRIED)


@pytest.fixture(scope="session")
def thousand_generated(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """1,000 generated payloads (and nothing else) against the reference receiver."""
    return run_cli(tmp_path_factory.mktemp("thousand"), "--examples", "1000", "-k", "generated")


@dataclass
class SecretRun:
    """A run whose target URL and header carry secrets that the receiver echoes back."""

    run: SuiteRun
    secrets: tuple[str, ...]
    echoed: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def secret_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretRun]:
    """A run with a token in the URL and an Authorization header, against a receiver that repeats both."""
    echoed: list[str] = []
    with faulty(echo=echoed) as receiver:
        run = run_cli(
            tmp_path_factory.mktemp("secret"),
            "--header",
            f"Authorization: Bearer {BEARER}",
            "--examples",
            "5",
            "-k",
            "documented-example or generated",
            target=f"{receiver.url}?token={URL_TOKEN}",
        )
        yield SecretRun(run, (URL_TOKEN, BEARER), list(echoed))


# -- Chromium -----------------------------------------------------------------------------------------------------
def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, if one is installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path; in CI (``CI`` set) its absence fails the test, elsewhere it skips it."""
    found = find_chromium()
    if found is None:
        reason = "headless Chromium is not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install it to test the report as customers see it", pytrace=False)
        pytest.skip(reason)
    return found


def dump_dom(chromium: str, page: Path) -> str:
    """The DOM of ``page`` after its scripts ran, serialised by headless Chromium (fresh profile)."""
    with tempfile.TemporaryDirectory(prefix="dlr-chromium-") as profile:
        done = run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
            env=os.environ,
            timeout=120,
        )
    assert done.code == 0, done.stderr[-3000:]
    assert "</html>" in done.stdout, done.stderr[-3000:]
    return done.stdout


# -- the rendered DOM as a tree -----------------------------------------------------------------------------------
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass(eq=False)
class Node:
    """One element of a parsed page."""

    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        """The element's classes."""
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """All text inside the element, entities decoded."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        """The element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def in_template(self) -> bool:
        """Whether the element is part of a ``<template>`` (inert markup, not on the page)."""
        node = self.parent
        while node is not None:
            if node.tag == "template":
                return True
            node = node.parent
        return False

    def find_all(self, tag: str | None = None, *, id: str | None = None, cls: str | None = None) -> list[Node]:
        """Elements on the page (not in templates) matching the tag, id and class given."""
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (id is None or n.attrs.get("id") == id)
            and (cls is None or cls in n.classes)
            and not n.in_template()
        ]

    def find(self, tag: str | None = None, *, id: str | None = None, cls: str | None = None) -> Node:
        """The first matching element; fails the test if there is none."""
        found = self.find_all(tag, id=id, cls=cls)
        assert found, f"no <{tag or '*'}> with id={id!r} class={cls!r} on the page"
        return found[0]

    def result_rows(self) -> list[ResultRow]:
        """The rows of pytest-html's results table (they exist only once pytest-html's script has run)."""
        rows = []
        for tbody in self.find(id="results-table").find_all("tbody", cls="results-table-row"):
            cells = {c: tbody.find("td", cls=f"col-{c}").text().strip() for c in ("result", "requirement", "testId")}
            rows.append(ResultRow(cells["result"], cells["requirement"], cells["testId"], tbody))
        return rows


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(markup: str) -> Node:
    """The page ``markup`` describes, as a tree of :class:`Node`."""
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


@dataclass
class ResultRow:
    """One row of pytest-html's results table, as rendered."""

    result: str
    requirement: str
    test: str
    body: Node


@pytest.fixture(scope="session")
def render(chromium: str) -> Callable[[Path], Node]:
    """Open a page in headless Chromium and parse the DOM it rendered."""
    return lambda page: parse(dump_dom(chromium, page))


@pytest.fixture(scope="session")
def passing_page(render: Callable[[Path], Node], passing_run: SuiteRun) -> Node:
    """The passing run's HTML report, rendered by Chromium."""
    return render(passing_run.html_path)


@pytest.fixture(scope="session")
def should_page(render: Callable[[Path], Node], should_run: SuiteRun) -> Node:
    """The SHOULD-only run's HTML report, rendered by Chromium."""
    return render(should_run.html_path)


@pytest.fixture(scope="session")
def partial_page(render: Callable[[Path], Node], partial_run: SuiteRun) -> Node:
    """The partial run's HTML report, rendered by Chromium."""
    return render(partial_run.html_path)


@pytest.fixture(scope="session")
def failing_page(render: Callable[[Path], Node], failing_run: SuiteRun) -> Node:
    """The failing run's HTML report, rendered by Chromium."""
    return render(failing_run.html_path)


@dataclass(frozen=True)
class Hostile:
    """What the faulty receiver answers besides its status."""

    body: str = HOSTILE_BODY
    header: str = HOSTILE_HEADER


@pytest.fixture(scope="session")
def hostile() -> Hostile:
    """The hostile body and header the faulty receiver answers with."""
    return Hostile()
