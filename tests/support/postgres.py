"""A real PostgreSQL server for a test: Debian's postgresql, a fresh cluster on a free port on 127.0.0.1.

initdb and postgres refuse to run as root, and CI runs as root: there they run as the ``postgres`` user (via
``runuser``) with a data directory it owns; otherwise as the current user.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shlex
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.process import run

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "postgres"
"""The PostgreSQL example receiver: its app, schema, reader and preparer."""


def example_app() -> Any:
    """The example's ``app.py`` as a module (``create_schema(url)``, ``application(url)``)."""
    spec = importlib.util.spec_from_file_location("dlr_postgres_example", EXAMPLE / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_command(database: str, script: str, *flags: str) -> str:
    """The documented one-command psql reader (``reader.sql``) or preparer (``prepare.sql``), for ``database``."""
    return (
        f"psql {shlex.quote(database)} -X {' '.join(flags)} -v ON_ERROR_STOP=1 -f {shlex.quote(str(EXAMPLE / script))}"
    )


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A throwaway cluster: ``url`` connects as the superuser ``postgres`` to database ``dlr``, trust auth."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="dlr-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/dlr"

    def _run(self, *args: str) -> None:
        run([*self.as_user, *args], env=os.environ, timeout=120, check=True)

    def start(self) -> PostgresServer:
        """initdb, start on 127.0.0.1:port (socket in the data dir), create database dlr."""
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "log"),
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c fsync=off -c max_connections=200", "start",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            done = run(
                ["psql", f"postgresql://postgres@127.0.0.1:{self.port}/postgres", "-X", "-q", "-c",
                 "CREATE DATABASE dlr"], env=os.environ, timeout=30,
            )  # fmt: skip
            if done.code == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {done.stderr}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
