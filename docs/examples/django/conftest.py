"""The conformance suite in this project's own pytest session: the target is pytest-django's live server, the
stored state is read and the messages are created through the ORM, in the test database."""

from __future__ import annotations

from typing import Any

import pytest
from receipts.models import Message


@pytest.fixture(scope="session")
def dlr_target_url(live_server: Any) -> str:
    """The callback URL of the live server (any free port: it is read when the suite starts)."""
    return live_server.url + "/dlr/"


@pytest.fixture(scope="session")
def dlr_state_reader(django_db_blocker: Any) -> Any:
    """What the app stored for the messages asked for."""

    def read(request: dict[str, Any]) -> list[dict[str, Any]]:
        with django_db_blocker.unblock():
            return [m.as_row() for m in Message.objects.filter(message_id__in=request["message_ids"])]

    return read


@pytest.fixture(scope="session")
def dlr_preparer(django_db_blocker: Any) -> Any:
    """The messages created as the app's send request would have, before reports on them arrive."""

    def prepare(run_id: str, messages: list[dict[str, Any]]) -> None:
        with django_db_blocker.unblock():
            Message.objects.bulk_create(
                Message(
                    message_id=m["message_id"],
                    api_job_id=m.get("api_job_id"),
                    client_job_id=m.get("client_job_id"),
                    client_message_id=m.get("client_message_id"),
                    type=m.get("type"),
                    recipient=m.get("to"),
                )
                for m in messages
            )

    return prepare
