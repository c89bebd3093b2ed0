"""Database engine set-up: SQLite pragmas and write transactions that cannot deadlock."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db

WRITE = "plaint_write"


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would do it late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes SQLite's write lock up front: a deferred one that read
    # first would fail at once with SQLITE_BUSY when another writer got in between.
    # Straight on the driver: this runs once per transaction, on every step.
    driver = conn.connection.driver_connection
    driver.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE)  # type: ignore[union-attr]
                   else "BEGIN")


def _postgresql_connect(dbapi_connection: Any, record: Any) -> None:
    # A list parameter is one of a sweep's batch's arrays (services/deferred.py, the only
    # place that passes lists): sent in binary, it skips psycopg's text quoting of every
    # element (bytea states hex-encoded, then escaped). Client-side only: nothing a
    # connection pooler would have to keep.
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def configure_engine(engine: Engine) -> None:
    """Install the SQLite hooks on an engine; on PostgreSQL, insert many rows per statement."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        # An INSERT of many rows (a timer batch's history, outbox and timer rows) becomes
        # one multi-row INSERT, as SQLAlchemy does for psycopg2: psycopg 3's executemany
        # sends one statement per row, each parsed, planned and run by the server apart.
        # Measured on a 1,000-timer sweep: 2,500 fewer server statements.
        engine.dialect.use_insertmanyvalues_wo_returning = True
        event.listen(engine, "connect", _postgresql_connect)


def init_app(app: Flask) -> None:
    """Configure the app's engine once it exists."""
    with app.app_context():
        configure_engine(db.engine)


def begin_write(keep_loaded: bool = False) -> None:
    """Start the session's transaction as a write transaction.

    Services that change data call this first. Whatever the session read before is
    rolled back (and reloaded on use), so the work below sees the latest committed
    data while holding the write lock on SQLite; on PostgreSQL it is a plain BEGIN
    and optimistic version checks and row locks do the rest.

    `keep_loaded` is for a write that only adds rows (the access log): the read before
    it ends without expiring what it loaded, so the page goes on without reloading its
    user and case, unless the session holds changes, which are rolled back as ever.
    """
    session = db.session()
    if session.in_transaction():
        if keep_loaded and not (session.new or session.dirty or session.deleted):
            commit_keeping_loaded()
        else:
            db.session.rollback()
    db.session.connection(execution_options={WRITE: True})


def commit_keeping_loaded() -> None:
    """Commit without expiring the objects the session holds (they are not reloaded)."""
    session = db.session()
    expiring = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
