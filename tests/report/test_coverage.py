"""The coverage matrix: what a run exercised, counted from the deliveries that went out and how they were answered.

Each cell is defined in docs/reference/coverage.md; the counts are checked here against what a real receiver saw.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.engine.coverage import body_cells, cells
from conformance.generation.cases import base_record, callback
from tests.report.conftest import CHROMIUM_FLAGS, Node
from tests.support.process import run
from tests.support.runs import SuiteRun, run_suite
from tests.support.servers import Arrival, Recorder, Reply

REFUSED = "REJECTD"


# -- one body, its cells ------------------------------------------------------------------------------------------
def test_a_body_exercises_the_cells_of_its_content() -> None:
    body = callback(
        base_record(type="VIBER", status="SEEN", timestamp=2**40, error_code=-32768, to="3569900", x_extra=1),
        base_record(status="READ", client_message_id=None, from_="12345", sms_from="ø"),
        client_job_id="",
        x_top=True,
    )
    hit = body_cells(body)
    expected = {"VIBER", "SEEN", "VIBER × SEEN", "unknown status", "SMS", 'client_job_id ""', "extra top-level field"}
    expected |= {"extra record field", "timestamp past 32 bits", "timestamp in milliseconds", "error_code negative"}
    expected |= {"error_code -32768", "to of 7 digits", "client_message_id absent", "client_message_id present"}
    expected |= {"sender as numeric from", "sender as alphanumeric from", "sender as sms_from", "non-ASCII text"}
    expected |= {"batch of 2-10 records", "error_code zero", "timestamp in seconds"}
    assert hit == expected
    assert hit <= {cell.name for cell in cells()}


def test_a_body_that_is_not_a_callback_exercises_nothing() -> None:
    assert body_cells(["not", "an", "object"]) == set()
    assert body_cells({"data": "no records"}) == {"client_job_id absent", "extra top-level field"} - {
        "extra top-level field"
    }


def test_cell_names_are_unique_and_stored_state_cells_need_a_reader() -> None:
    names = [cell.name for cell in cells()]
    assert len(names) == len(set(names))
    assert {c.group for c in cells(with_reader=False)} == {c.group for c in cells()} - {"stored state"}


# -- a receiver that refuses one status ---------------------------------------------------------------------------
def _refusing(arrival: Arrival, index: int) -> Reply:
    try:
        records = json.loads(arrival.body).get("data", [])
    except ValueError:
        records = []
    refused = any(isinstance(r, dict) and r.get("status") == REFUSED for r in records)
    return (500, {}, b"status not supported") if refused else (200, {}, b"")


@pytest.fixture(scope="module")
def refusing() -> Iterator[tuple[Recorder, SuiteRun]]:
    """A receiver answering 500 to any callback with a REJECTD record, in a run restricted with ``-k``."""
    with Recorder(_refusing) as receiver, tempfile.TemporaryDirectory(prefix="dlr-coverage-") as folder:
        done = run_suite(Path(folder), receiver.url, "--seed", "7", "-k", "REJECTD or ENROUTE or unknown")
        yield receiver, done


def _cells(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    coverage = summary["coverage"]
    assert isinstance(coverage, dict)
    return {cell["name"]: cell for group in coverage["groups"] for cell in group["cells"]}


def test_the_refused_status_shows_red_and_the_rest_green(refusing: tuple[Recorder, SuiteRun]) -> None:
    _, done = refusing
    by_name = _cells(done.summary)
    refused = by_name[REFUSED]
    assert refused["state"] == "failed"
    assert refused["answered_200"] == 0 < refused["exercised"]
    assert by_name["SMS × REJECTD"]["state"] == "failed"
    assert by_name["ENROUTE"]["state"] == "passed"
    assert by_name["unknown status"]["state"] == "passed"


def test_a_restricted_run_shows_the_cells_it_did_not_exercise(refusing: tuple[Recorder, SuiteRun]) -> None:
    _, done = refusing
    coverage = done.summary["coverage"]
    not_exercised = [name for name, cell in _cells(done.summary).items() if cell["state"] == "not_exercised"]
    assert "batch of over 150 records" in not_exercised
    assert "timestamp in microseconds" in not_exercised
    assert coverage["exercised"] == coverage["cells"] - len(not_exercised)
    assert f"coverage: {coverage['exercised']} of {coverage['cells']} cells exercised" in done.output


def test_the_numbers_equal_the_deliveries_answered(refusing: tuple[Recorder, SuiteRun]) -> None:
    receiver, done = refusing
    batches = [cell for name, cell in _cells(done.summary).items() if name.startswith("batch of")]
    answered = [_refusing(arrival, 0)[0] for arrival in receiver.arrivals]  # type: ignore[index]
    # every delivery holds one or more records, so it falls in exactly one batch-size cell
    assert sum(int(c["exercised"]) for c in batches) == len(receiver.arrivals) == done.summary["requests_sent"]
    assert sum(int(c["answered_200"]) for c in batches) == answered.count(200)
    refused = sum(any(r.get("status") == REFUSED for r in json.loads(a.body)["data"]) for a in receiver.arrivals)
    assert _cells(done.summary)[REFUSED]["exercised"] == refused


# -- the gate -----------------------------------------------------------------------------------------------------
def test_min_coverage_fails_a_run_that_exercised_too_little(tmp_path: Path) -> None:
    done = run_suite(tmp_path / "short", None, "-k", "documented", "--min-coverage", "90")
    coverage = done.summary["coverage"]
    assert done.code == 1, done.output[-2000:]
    assert done.summary["verdict"] == "not_conformant"
    assert (coverage["min_coverage"], coverage["met"]) == (90.0, False)
    assert "fewer than --min-coverage 90% asks for" in done.summary["explanation"]
    assert "below --min-coverage 90%" in done.output


def test_min_coverage_from_the_environment_passes_a_run_that_meets_it(tmp_path: Path) -> None:
    done = run_suite(tmp_path / "met", None, "-k", "documented", env={"DLR_MIN_COVERAGE": "5"})
    assert done.code == 0, done.output[-2000:]
    assert (done.summary["coverage"]["min_coverage"], done.summary["coverage"]["met"]) == (5.0, True)
    assert "--min-coverage 5% met" in done.output


@pytest.mark.parametrize("value", ["101", "-1", "most"])
def test_a_bad_min_coverage_is_a_usage_error(tmp_path: Path, value: str) -> None:
    done = run_suite(tmp_path, None, "--min-coverage", value, agree=False)
    assert done.code == 4
    assert "--min-coverage" in done.output
    assert "percentage from 0 to 100" in done.output


# -- in a browser ---------------------------------------------------------------------------------------------------
def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGBA rows of an 8-bit RGBA or RGB PNG (what Chromium writes), unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert (depth, colour) in {(8, 2), (8, 6)}, (depth, colour)
            channels = 4 if colour == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + size
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(
            bytes(line) if channels == 4 else b"".join(bytes(line[i : i + 3]) + b"\xff" for i in range(0, stride, 3))
        )
        prev = line
    return width, height, rows


def _count(rows: list[bytes], rgb: tuple[int, int, int]) -> int:
    pixel = bytes(rgb) + b"\xff"
    return sum(row[i : i + 4] == pixel for row in rows for i in range(0, len(row), 4))


@pytest.mark.browser
def test_the_matrix_reads_at_a_glance_in_a_browser(
    refusing: tuple[Recorder, SuiteRun], chromium: str, render: Callable[[Path], Node], tmp_path: Path
) -> None:
    _, done = refusing
    page = render(done.html_path)
    matrix = page.find(id="dlr-coverage")
    states = [cell.attrs["data-state"] for cell in matrix.find_all(cls="dlr-cell")]
    assert {"passed", "failed", "not_exercised"} <= set(states)
    assert len(states) == done.summary["coverage"]["cells"]
    red = next(cell for cell in matrix.find_all(cls="dlr-cell") if cell.attrs["data-cell"] == REFUSED)
    assert red.attrs["data-state"] == "failed"
    assert "0/" in red.text()
    # the matrix as a reader sees it, on the first screen: green, red and grey cells (colours only the matrix uses).
    # The screen is as tall as the verdict, the facts and the by-requirement table above the matrix need: the table
    # grows with the catalogue (21 requirements put the matrix at 1,553 px, past a 1,500 px screen: measured)
    shot = tmp_path / "coverage.png"
    with tempfile.TemporaryDirectory(prefix="dlr-chromium-") as profile:
        done_shot = run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1400,1900",
             "--hide-scrollbars", done.html_path.resolve().as_uri()],
            env=os.environ,
            timeout=120,
        )  # fmt: skip
    assert shot.is_file(), done_shot.stderr[-2000:]
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1400, 1900)
    counts = {name: _count(rows, rgb) for name, rgb in {"green": (0x2D, 0xA4, 0x4E), "red": (0xD1, 0x24, 0x2F),
                                                          "grey": (0xE6, 0xE9, 0xED)}.items()}  # fmt: skip
    assert counts["green"] > 2000, counts
    assert counts["red"] > 300, counts
    assert counts["grey"] > 3000, counts


# -- the page's recipe ----------------------------------------------------------------------------------------------
def test_the_gate_recipe_runs_as_written(tmp_path: Path) -> None:
    """docs/reference/coverage.md's command, as written: a default run meets ``--min-coverage 100``."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "coverage.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"^```sh\n(.*?)\n```", page, re.S | re.M)
    words = shlex.split(command)
    assert words[:2] == ["dlr-conformance", "--min-coverage"]
    done = run_suite(tmp_path, None, *words[1:])
    assert done.code == 0, done.output[-3000:]
    coverage = done.summary["coverage"]
    assert coverage["exercised"] == coverage["cells"]
    assert coverage["met"] is True
