"""The JUnit XML file: one writer for the suite's run and for ``load``.

CI systems read it (GitLab, Jenkins, GitHub's test reporters), so it keeps the shape pytest's own ``--junitxml``
writes (xunit2): ``<testsuites>`` with one ``<testsuite>`` whose ``<properties>`` carry the run's facts, one
``<testcase>`` per test with its own properties and at most one ``<failure>``, ``<error>`` or ``<skipped>``
(a ``message`` attribute of at most :data:`MESSAGE_BUDGET` characters, the whole text inside). Characters XML
cannot carry are shown as ``#xNN``, as pytest does.

The suite's file is built from the run's :class:`~conformance.reporting.summary.Summary` (:func:`from_summary`):
each test under its requirement as ``classname``, the verdict and the run's facts as ``dlr-conformance.*``
properties. ``load``'s file has one test case (:mod:`conformance.load.outputs`).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from conformance import __version__
from conformance.reporting.files import write_atomically
from conformance.reporting.summary import Summary, TestResult

__all__ = ["Case", "Suite", "from_summary", "render", "write"]

MESSAGE_BUDGET = 500  # characters of a message attribute; the element's text has it whole
_ILLEGAL = re.compile("[^\u0009\u000a\u000d\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Case:
    """One test case: where it belongs, how long it took, and how it ended (``kind``: "" passed, or the element)."""

    classname: str
    name: str
    time: float
    properties: Sequence[tuple[str, str]] = ()
    kind: str = ""  # "", "failure", "error" or "skipped"
    message: str = ""
    text: str | None = None
    skip_type: str = "pytest.skip"
    extra_errors: list[tuple[str, str]] = field(default_factory=list)  # (message, text): errors after the test
    system_out: str = ""  # what the test says besides its outcome (where its scenario's findings were recorded)


@dataclass
class Suite:
    """One test suite: its name, its properties (the run's facts) and its cases."""

    name: str
    cases: list[Case]
    properties: Sequence[tuple[str, str]] = ()
    time: float = 0.0
    started: float | None = None  # epoch seconds
    collection: str | None = None  # the name of the <testsuites> element, if any


def _escape(text: object) -> str:
    """Characters XML cannot hold, as ``#xNN`` (visible, not an XML escape)."""

    def visible(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"#x{code:02X}" if code <= 0xFF else f"#x{code:04X}"

    return _ILLEGAL.sub(visible, str(text))


def shorten(message: str, budget: int = MESSAGE_BUDGET) -> str:
    """Whole lines of ``message`` while they fit in ``budget`` characters, then a pointer to the element's text."""
    lines = message.splitlines() or [""]
    kept: list[str] = []
    size = 0
    for line in lines:
        if kept and size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    short = "\n".join(kept)
    cut = len(short) > budget
    if cut:
        short = short[:budget] + "..."
    remaining = len(lines) - len(kept)
    if remaining:
        note = f"+{remaining} more line{'s' if remaining > 1 else ''}"
    elif cut:
        note = "truncated"
    else:
        return message
    return f"{short}\n[{note}; full report in element text]"


def _properties(pairs: Sequence[tuple[str, str]]) -> ET.Element | None:
    if not pairs:
        return None
    node = ET.Element("properties")
    for name, value in pairs:
        node.append(ET.Element("property", name=_escape(name), value=_escape(value)))
    return node


def _case(case: Case) -> tuple[ET.Element, list[str]]:
    element = ET.Element("testcase", classname=_escape(case.classname), name=_escape(case.name))
    element.set("time", f"{case.time:.3f}")
    properties = _properties(case.properties)
    if properties is not None:
        element.append(properties)
    kinds = []
    if case.kind:
        attributes = {"type": case.skip_type} if case.kind == "skipped" else {}
        child = ET.Element(case.kind, attributes, message=_escape(case.message))
        if case.text is not None:
            child.text = _escape(case.text)
        element.append(child)
        kinds.append(case.kind)
    for message, text in case.extra_errors:
        child = ET.Element("error", message=_escape(message))
        child.text = _escape(text)
        element.append(child)
        kinds.append("error")
    if case.system_out:
        element.append(ET.Element("system-out"))
        element[-1].text = _escape(case.system_out)
    return element, kinds


def render(suite: Suite) -> str:
    """The JUnit XML document of ``suite``."""
    counts = {"failure": 0, "error": 0, "skipped": 0, "": 0}
    cases = []
    for case in suite.cases:
        element, kinds = _case(case)
        cases.append(element)
        for kind in kinds or [""]:
            counts[kind] += 1
    node = ET.Element(
        "testsuite",
        name=_escape(suite.name),
        errors=str(counts["error"]),
        failures=str(counts["failure"]),
        skipped=str(counts["skipped"]),
        tests=str(sum(counts.values())),
        time=f"{suite.time:.3f}",
    )
    if suite.started is not None:
        node.set("timestamp", dt.datetime.fromtimestamp(suite.started, dt.UTC).astimezone().isoformat())
        node.set("hostname", platform.node())
    properties = _properties(suite.properties)
    if properties is not None:
        node.append(properties)
    node.extend(cases)
    root = ET.Element("testsuites")
    if suite.collection:
        root.set("name", suite.collection)
    root.append(node)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")


def write(path: str | os.PathLike[str], suite: Suite) -> None:
    """Write the JUnit XML file of ``suite`` (atomically)."""
    write_atomically(path, render(suite))


# -- the suite's run ------------------------------------------------------------------------------------------
def _address(nodeid: str) -> tuple[str, str]:
    """(classname, name) of a test without a requirement, as pytest derives them from its node id."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def _test_case(result: TestResult) -> Case:
    classname, name = _address(result.nodeid)
    case = Case(result.requirement or classname, name, result.elapsed, result.properties)
    if result.recorded_note:  # it passed, yet found failures: where they went, and what else it noted about them
        case.system_out = "\n".join(result.notes if result.recorded_note in result.notes else [result.recorded_note])
    if result.xfail is not None:
        case.kind, case.message = "skipped", result.xfail
        case.skip_type = "pytest.xfail"
    elif result.outcome == "skipped":
        reason = result.message.removeprefix("Skipped: ")
        case.kind, case.message, case.text = "skipped", reason, f"{result.location}: {reason}"
    elif result.outcome in {"failed", "error"} and result.when == "call":
        case.kind, case.message, case.text = "failure", shorten(result.message), result.message
    elif result.outcome in {"failed", "error"}:
        reason = f'failed on {result.when} with "{result.message}"'
        case.kind, case.message, case.text = "error", shorten(reason), result.message
    if result.teardown_error:
        reason = f'failed on teardown with "{result.teardown_error}"'
        case.extra_errors.append((shorten(reason), result.teardown_error))
    return case


def from_summary(summary: Summary) -> Suite:
    """The suite's JUnit file: each test under its requirement, the verdict and the run's facts as properties."""
    run = summary.run
    facts = {
        "verdict": summary.verdict,
        "complete": str(summary.complete).lower(),
        "strict": str(summary.strict).lower(),
        "target": run.masked_url,
        "seed": str(run.seed),
        "run_id": run.run_id,
        "tool_version": __version__,
        "options": summary.options_text(),
        "requests_sent": summary.sent_text(),
        "coverage": summary.coverage().line(),
    }
    if summary.security_note:
        facts["security_note"] = summary.security_note
    return Suite(
        name=f"dlr-conformance {run.masked_url}",
        cases=[_test_case(result) for result in summary.results],
        properties=[(f"dlr-conformance.{name}", str(value)) for name, value in facts.items()],
        time=max(0.0, (summary.finished or run.started) - run.started),
        started=run.started,
        collection="pytest tests",
    )
