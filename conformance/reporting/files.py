"""Writing a report file: whole or not at all.

Every report file of every face (the JSON summaries, the JUnit files) is written to a temporary file beside it and
renamed into place, so that a reader (a CI step, a dashboard polling the file) never sees half of one, and an
interrupted run leaves the previous file or the new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_atomically", "write_json"]


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` (its directory created if missing) through a temporary file renamed into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def write_json(path: str | os.PathLike[str], document: Any) -> None:
    """Write a JSON document the way every report file is written: indented, UTF-8 as is, a final newline."""
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
