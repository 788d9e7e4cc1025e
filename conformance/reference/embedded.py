"""The bundled reference receiver as a run starts it when no target is given: one start for the suite and ``load``.

It serves on loopback in a daemon thread and stores into a database file in a scratch directory of its own, so
that its state reader -- ``dlr-conformance stored``, another process -- reads what it stored: the run's default
``--state-cmd``. :meth:`EmbeddedReceiver.stop` stops it and removes the scratch directory.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from conformance.reference.reader import reader_command
from conformance.reference.receiver import ReceiverServer

__all__ = ["EmbeddedReceiver"]


class EmbeddedReceiver:
    """The reference receiver, started on 127.0.0.1 (a free port) with its database in a scratch directory."""

    def __init__(self, prefix: str = "dlr-conformance-") -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix=prefix))
        self.db = str(self.scratch / "reference.sqlite3")
        try:
            self.server = ReceiverServer(db=self.db).start()
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        """Where to deliver: the receiver's callback URL."""
        return self.server.url

    @property
    def reader(self) -> str:
        """Its state reader: the command that prints what it stored (the run's default ``--state-cmd``)."""
        return reader_command(self.db)

    def stop(self) -> None:
        """Stop serving, close the store and remove the scratch directory."""
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> EmbeddedReceiver:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
