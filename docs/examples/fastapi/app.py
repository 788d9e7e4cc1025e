"""An example delivery-report receiver on FastAPI and SQLAlchemy: ``POST /dlr`` stores the reports of a callback.

It only updates messages the application sent; a callback holding a report for a ``message_id`` it does not know
(yet: the platform can report before the sending code stored the id) is answered 404, so that the platform delivers
it again later, when the message is known. It processes each distinct report once, keeps the status of the newest
report (by ``timestamp``, then ``micro_timestamp``) whatever order reports arrive in, and stores a batch in one
transaction. The database is ``DATABASE_URL`` (default ``sqlite:///dlr.sqlite3``); the tests give it a database of
their own.

    uvicorn --factory app:main --port 8080
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import BigInteger, Integer, SmallInteger, String, Text, UniqueConstraint, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One row per message the application sent, updated by its delivery reports."""

    __tablename__ = "message"
    message_id: Mapped[str] = mapped_column(String, primary_key=True)
    api_job_id: Mapped[str | None] = mapped_column(Text)
    client_job_id: Mapped[str | None] = mapped_column(Text)
    client_message_id: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)  # the newest report's status; None until the first report
    timestamp: Mapped[int | None] = mapped_column(BigInteger)  # 64-bit: the platform sends milliseconds here
    micro_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    error_code: Mapped[int | None] = mapped_column(SmallInteger)
    reports: Mapped[int] = mapped_column(Integer, default=0)

    def as_row(self) -> dict[str, Any]:
        """The message in the platform's words, as the conformance suite's state reader returns it."""
        names = ("message_id", "status", "reports", "api_job_id", "client_job_id", "client_message_id", "type")
        row = {name: getattr(self, name) for name in names}
        row.update(to=self.recipient, timestamp=self.timestamp, micro_timestamp=self.micro_timestamp)
        return {**row, "error_code": self.error_code}


class Report(Base):
    """A report processed: a retry of it (same message, same status) changes nothing."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("message_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(Text)


def engine_for(url: str) -> Any:
    """An engine whose SQLite write transactions take their lock at BEGIN: concurrent callbacks wait, not fail."""
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _newer(message: Message, record: dict[str, Any]) -> bool:
    if message.status is None:
        return True
    stored = (message.timestamp or 0, message.micro_timestamp or 0)
    return stored <= (record.get("timestamp") or 0, record.get("micro_timestamp") or 0)


def store(engine: Any, callback: dict[str, Any]) -> bool:
    """Apply every record of one callback, in one transaction; False when a record's message is not known (yet)."""
    known = True
    with Session(engine) as session, session.begin():
        for record in callback.get("data") or []:
            message = session.get(Message, str(record.get("message_id")))
            if message is None:
                known = False  # not known yet: answered 404, the platform delivers it again later
                continue
            status = str(record.get("status"))
            if session.query(Report).filter_by(message_id=message.message_id, status=status).first():
                continue  # a retry of a report already processed
            session.add(Report(message_id=message.message_id, status=status))
            message.reports += 1
            if _newer(message, record):
                message.status = status
                message.timestamp = record.get("timestamp")
                message.micro_timestamp = record.get("micro_timestamp")
                message.error_code = record.get("error_code")
                message.sender = record.get("from") or record.get("sms_from") or record.get("viber_from") or None
                message.api_job_id = callback.get("api_job_id")
                message.client_job_id = callback.get("client_job_id") or None
                message.client_message_id = record.get("client_message_id")
                message.type = record.get("type")
    return known


def create_app(database_url: str) -> FastAPI:
    """The app over the database at ``database_url`` (its tables created if missing)."""
    engine = engine_for(database_url)
    Base.metadata.create_all(engine)
    app = FastAPI()
    app.state.engine = engine

    @app.post("/dlr")
    async def callback(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(body, dict):
            return Response(status_code=400)
        known = await run_in_threadpool(store, engine, body)
        return Response(status_code=200 if known else 404)

    return app


def main() -> FastAPI:
    """The app over ``DATABASE_URL`` (uvicorn's ``--factory``): importing this module opens no database."""
    return create_app(os.environ.get("DATABASE_URL", "sqlite:///dlr.sqlite3"))
