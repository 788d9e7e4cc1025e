"""The tests of one group (``GROUPS`` in ``tests/conftest.py``) run on one pytest-xdist worker, in one unit of its
work, so that what they share (a virtualenv, a database server, a whole run) is made once per session."""

from __future__ import annotations

import re
import sys

from tests.conftest import GROUPS
from tests.support.process import run
from tests.support.tools import ROOT


def test_a_group_runs_on_one_worker() -> None:
    """Two workers, two tests of the action's group and others: the group's on one worker (without the scheduler
    pytest-xdist sends the first two tests to two workers). Only tests that build no virtualenv are selected; a
    worker is named in each ``-v`` line."""
    group = "ecosystem/test_action.py"
    assert group in GROUPS
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-n",
            "4",
            "-p",
            "no:cacheprovider",
            f"tests/{group}",
            "tests/test_catalogue.py",
            "-k",
            "inputs_are or docs_use or ids_text",
        ],
        cwd=ROOT,
        timeout=300,
        merged=True,
    )
    workers = re.findall(r"\[(gw\d+)\].* PASSED tests/ecosystem/test_action\.py", done.stdout)
    others = re.findall(r"\[(gw\d+)\].* PASSED tests/test_catalogue\.py", done.stdout)
    assert len(workers) == 2, done.stdout[-3000:]
    assert others, done.stdout[-3000:]
    assert len(set(workers)) == 1, f"the group ran on {sorted(set(workers))}"
