"""Statements run straight on the DBAPI connection, for the few that run on every step.

SQLAlchemy costs about 40-70 us of Python per executed statement even when prebuilt;
the DBAPI call itself costs a few. The write path of a case runs five to seven
statements per step, so they go through here: SQL generated from the models' Table
objects (no hand-written column lists), `:name` parameters rewritten for the driver,
and values adapted the way the models' column types would (UTC datetimes stored naive,
booleans as the database spells them). They run on the session's own connection,
inside its transaction. Reads stay on SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from .extensions import db

_NAME = re.compile(r":(\w+)")


def _quote(name: str) -> str:
    return f'"{name}"'


class Statement:
    """One SQL statement with :name parameters, runnable on SQLite and PostgreSQL."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._pyformat = _NAME.sub(r"%(\1)s", sql)

    def text(self, dialect: str) -> str:
        """The statement in the paramstyle of the dialect's driver."""
        return self._pyformat if dialect == "postgresql" else self.sql

    def __repr__(self) -> str:
        return f"<Statement {self.sql}>"


def insert(table: Table, columns: Sequence[str]) -> Statement:
    """INSERT of the given columns."""
    names = ", ".join(_quote(c) for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    # Names come from the models' tables, never from input; values are parameters.
    return Statement(f"INSERT INTO {_quote(table.name)} ({names}) VALUES ({values})")  # noqa: S608


def update(table: Table, columns: Sequence[str], where: Sequence[str],
           where_params: Sequence[str] | None = None) -> Statement:
    """UPDATE of the given columns WHERE each `where` column equals its parameter."""
    sets = ", ".join(f"{_quote(c)} = :{c}" for c in columns)
    params = where_params or where
    cond = " AND ".join(f"{_quote(c)} = :{p}" for c, p in zip(where, params, strict=True))
    return Statement(f"UPDATE {_quote(table.name)} SET {sets} WHERE {cond}")  # noqa: S608


def delete_in(table: Table, where: str, column: str, count: int) -> Statement:
    """DELETE WHERE `where` = :where AND `column` IN (count parameters)."""
    marks = ", ".join(f":in{i}" for i in range(count))
    return Statement(f"DELETE FROM {_quote(table.name)} WHERE {_quote(where)} = :{where} "  # noqa: S608
                     f"AND {_quote(column)} IN ({marks})")


def _adapt(value: Any, sqlite: bool) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        # SQLAlchemy's SQLite DateTime stores this exact text; reads must parse it back.
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive
    if isinstance(value, bool) and sqlite:
        return int(value)
    return value


def _adapted(params: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    return {k: _adapt(v, sqlite) for k, v in params.items()}


def execute(statement: Statement, params: dict[str, Any]) -> int:
    """Run a statement in the session's transaction; return the affected row count."""
    conn = db.session.connection()
    dialect = conn.dialect.name
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement.text(dialect), _adapted(params, dialect == "sqlite"))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def execute_many(statement: Statement, rows: Iterable[dict[str, Any]]) -> None:
    """Run a statement once per row, in the session's transaction."""
    conn = db.session.connection()
    dialect = conn.dialect.name
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement.text(dialect),
                           [_adapted(row, dialect == "sqlite") for row in rows])
    finally:
        cursor.close()


def integrity_error() -> type[Exception]:
    """The driver's IntegrityError class (raw statements raise the driver's errors)."""
    error: type[Exception] = db.engine.dialect.dbapi.IntegrityError  # type: ignore[union-attr]
    return error
