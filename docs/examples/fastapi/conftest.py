"""The conformance suite in this project's own pytest session: the app served by uvicorn in a fixture, over a
database of the tests' own; the stored state read and the messages created through SQLAlchemy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from app import Message, create_app
from fastapi import FastAPI
from sqlalchemy.orm import Session


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app over a database of the tests' own, never the developer's."""
    database: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    return create_app(f"sqlite:///{database}")


@pytest.fixture(scope="session")
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, on a free port, for the session."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def dlr_target_url(live_url: str) -> str:
    return live_url + "/dlr"


@pytest.fixture(scope="session")
def dlr_state_reader(app: FastAPI) -> Any:
    """What the app stored for the messages asked for."""

    def read(request: dict[str, Any]) -> list[dict[str, Any]]:
        with Session(app.state.engine) as session:
            found = session.query(Message).filter(Message.message_id.in_(request["message_ids"]))
            return [message.as_row() for message in found]

    return read


@pytest.fixture(scope="session")
def dlr_preparer(app: FastAPI) -> Any:
    """The messages created as the app's send request would have, before reports on them arrive."""

    def prepare(run_id: str, messages: list[dict[str, Any]]) -> None:
        with Session(app.state.engine) as session, session.begin():
            session.add_all(
                Message(
                    message_id=m["message_id"],
                    api_job_id=m.get("api_job_id"),
                    client_job_id=m.get("client_job_id"),
                    client_message_id=m.get("client_message_id"),
                    type=m.get("type"),
                    recipient=m.get("to"),
                    reports=0,
                )
                for m in messages
            )

    return prepare
