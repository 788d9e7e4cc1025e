"""A default run's console, JSON summary and JUnit file are what they were: ``dlr-conformance --seed 1`` against the
bundled reference receiver, compared with the snapshots in ``snapshots/`` with what changes from run to run
blanked (the run id and the ids it tags, the port, times, latencies, paths, the tool's version).

The snapshots were made from the run before the engine was shared by the suite, ``send`` and ``load``: a change to
what a default run says shows here. If the change is meant, make them again:
``python tests/engine/test_engine_default_run.py DIR`` normalises the outputs of a run made in ``DIR``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.process import dlr

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


PROGRESS = re.compile(r"^dlr-conformance: [\d,]+/[\d,]+ requests sent, .*$")  # every 10 s of a slow run, in a log
DOTS = re.compile(r"^[.sFEx]+ *(\[ *\d+%\])?$")  # pytest's progress, on one line or cut by the line above


def _console(text: str) -> str:
    """The console without what a slow run adds (progress lines cutting pytest's dots): dots on one line."""
    lines: list[str] = []
    for line in text.splitlines():
        if PROGRESS.match(line):
            continue
        if DOTS.match(line) and lines and DOTS.match(lines[-1]):
            lines[-1] = re.sub(r" *\[ *\d+%\]$", "", lines[-1]) + line
            continue
        lines.append(line)
    return "\n".join(re.sub(r"^([.sFEx]+) *(\[ *\d+%\])$", r"\1 \2", line) for line in lines) + "\n"


def _text(text: str) -> str:
    """What a run's text says, without what changes from run to run."""
    for run_id in set(re.findall(r"run id ([0-9a-f]{8})\b", text)):
        text = text.replace(run_id, "RUNID")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\d+(\.\d+)? ms\b", "N ms", text)
    text = re.sub(r"file://\S+", "file://PATH", text)
    return re.sub(r"-+ Generated html report: file://PATH -+", "- Generated html report: file://PATH -", text)


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(_text(json.dumps(document).replace(document["run_id"], "RUNID")))
    document["api_job_ids"] = [re.sub(r"^dlrc-.*", "dlrc-ID", i) for i in document["api_job_ids"]]
    document["tool"]["version"] = "VERSION"
    for key in ("started", "duration_s"):
        document[key] = key.upper()
    document["latency_s"] = {k: "N" if v is not None else None for k, v in document["latency_s"].items()}
    if "coverage" in document:
        document["coverage"]["cost_s"] = "COST"
    for group in document.get("coverage", {}).get("groups", []):
        for cell in group["cells"]:
            if cell["name"].startswith("duplicate"):  # sequential or concurrent: how the answers' timing fell out
                cell.update(dict.fromkeys(("exercised", "answered_200"), "N"))
    return document


def _junit(text: str) -> str:
    match = re.search(r'name="dlr-conformance.run_id" value="([0-9a-f]{8})"', text)
    assert match is not None, text[:500]
    text = _text(text.replace(match.group(1), "RUNID"))
    text = re.sub(r'(time|timestamp|hostname)="[^"]*"', r'\1="X"', text)
    text = re.sub(
        r'name="dlr-conformance.tool_version" value="[^"]*"', 'name="dlr-conformance.tool_version" value="V"', text
    )
    text = re.sub(r">[^<>]*conformance/suite/(test_\w+\.py):\d+: ", r">\1:LINE: ", text)
    return text.replace("><", ">\n<")


def normalised(directory: Path) -> dict[str, str]:
    """The console, JSON summary and JUnit file of a run made in ``directory``, normalised."""
    reports = directory / "reports"
    summary = _summary(json.loads((reports / "summary.json").read_text(encoding="utf-8")))
    return {
        "console.txt": _console(_text((directory / "console.txt").read_text(encoding="utf-8"))),
        "summary.json": json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
        "junit.xml": _junit((reports / "junit.xml").read_text(encoding="utf-8")) + "\n",
    }


@pytest.mark.slow  # the installed command, to its end
def test_a_default_run_says_what_it_said(tmp_path: Path) -> None:
    done = dlr("--seed", "1", cwd=tmp_path, timeout=300)
    (tmp_path / "console.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    assert done.code == 0, done.output[-3000:]
    for name, text in normalised(tmp_path).items():
        snapshot = (SNAPSHOTS / name).read_text(encoding="utf-8")
        assert text.splitlines() == (_console(snapshot) if name == "console.txt" else snapshot).splitlines(), name


if __name__ == "__main__":  # make the snapshots again from a run made in the directory given
    SNAPSHOTS.mkdir(exist_ok=True)
    for name, text in normalised(Path(sys.argv[1])).items():
        (SNAPSHOTS / name).write_text(text, encoding="utf-8")
