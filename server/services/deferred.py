"""Rows a timer sweep's batch writes at its end: one executemany per statement.

A burst records thousands of steps, and most of their rows are only ever read after the
commit: the history row (when no webhook wants it), the outbox's e-mails, the timer rows,
the task rows moved or gone, and the report row's changes. Inside `deferring()`
(services/timers.py, a batch recorded without savepoints) such writes are collected here
and `flush` executes each statement once with all its rows, just before the batch
commits; elsewhere they run at once, as any other write. Only writes that nothing reads
later in the same step may come through here (a step's new task rows only when neither
routing nor the unstaffed flag changes them within it: services/recording.py decides).

On PostgreSQL an executemany is still one statement per row on the server (psycopg 3
pipelines them, but each is bound, planned and run apart): a statement with a combined
form (`combine`) is flushed there as one statement for all its rows instead.

A batch's case rows are saved here too, their version check (`checked`) made at the
flush: a case saved by someone meanwhile makes the flush raise, and the batch is then
recorded case by case (services/timers.py), where the check names the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Executable, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from ..extensions import db

# Statement -> rows, in the order the statements were first used (deletes before inserts
# of the same table, as a step writes them).
_PENDING: ContextVar[dict[Executable, list[dict[str, Any]]] | None] = ContextVar(
    "plaint_deferred", default=None)

Rows = list[dict[str, Any]]
Together = Callable[[Rows], tuple[Executable, dict[str, Any]]]
# Statement -> how to write many rows of one shape in one statement on PostgreSQL.
_COMBINED: dict[Executable, Together] = {}


# Statements each of whose rows must change exactly one row (a version check).
_CHECKED: set[Executable] = set()


class Stale(Exception):
    """A checked write found a row changed meanwhile: the batch must not commit."""


def checked(statement: Executable) -> None:
    """Make `flush` raise Stale unless each row given to `statement` changed one row."""
    _CHECKED.add(statement)


def combine(statement: Executable, together: Together) -> None:
    """Give a deferrable statement a form that writes many rows at once on PostgreSQL."""
    _COMBINED[statement] = together


def _given(table: Table, names: dict[str, str]) -> Any:
    """The rows given to a combined statement: one array per parameter (typed as the
    column it stands for), unnested into a table whose columns are the parameters."""
    return func.unnest(*(bindparam(f"u_{name}", type_=ARRAY(table.c[column].type))
                         for name, column in names.items())).table_valued(
        *names).render_derived(name="given")


def _arrays(rows: Rows) -> dict[str, Any]:
    """The parameters of a combined statement: each parameter's values, row by row."""
    return {f"u_{name}": [row[name] for row in rows] for name in rows[0]}


def updating(table: Table, keys: dict[str, str]) -> Together:
    """A combined UPDATE of `table` for rows found by `keys` (parameter -> key column);
    every other parameter of a row names the column it sets."""
    made: dict[tuple[str, ...], Executable] = {}

    def together(rows: Rows) -> tuple[Executable, dict[str, Any]]:
        shape = tuple(rows[0])
        if shape not in made:
            given = _given(table, {name: keys.get(name, name) for name in shape})
            made[shape] = table.update().where(
                *(table.c[column] == given.c[name] for name, column in keys.items())).values(
                {table.c[name]: given.c[name] for name in shape if name not in keys})
        return made[shape], _arrays(rows)

    return together


def inserting(table: Table) -> Together:
    """A combined INSERT into `table` of rows that give the same columns, over one array
    per column. SQLAlchemy already sends an executemany INSERT as one multi-row VALUES
    (database.py); this form is one parameter per column instead of per value, and cost
    a fifth less client CPU on a burst's history and outbox rows (measured on 1,000)."""
    made: dict[tuple[str, ...], Executable] = {}

    def together(rows: Rows) -> tuple[Executable, dict[str, Any]]:
        shape = tuple(rows[0])
        if shape not in made:
            given = _given(table, {name: name for name in shape})
            made[shape] = table.insert().from_select(
                list(shape), select(*(given.c[name] for name in shape)))
        return made[shape], _arrays(rows)

    return together


def deleting(table: Table, keys: dict[str, str]) -> Together:
    """A combined DELETE of `table`'s rows found by `keys` (parameter -> key column)."""
    given = _given(table, keys)
    statement = table.delete().where(
        *(table.c[column] == given.c[name] for name, column in keys.items()))
    return lambda rows: (statement, _arrays(rows))


@contextmanager
def deferring() -> Iterator[dict[Executable, list[dict[str, Any]]]]:
    """Collect deferrable writes until `flush`; whatever is left unflushed is dropped."""
    pending: dict[Executable, list[dict[str, Any]]] = {}
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def active() -> bool:
    """Whether writes are being collected for a batch's end."""
    return _PENDING.get() is not None


def write(statement: Executable, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Execute a statement that nothing reads before the commit, or keep it for `flush`."""
    pending = _PENDING.get()
    if pending is None:
        db.session.connection().execute(statement, rows)
        return
    pending.setdefault(statement, []).extend(rows if isinstance(rows, list) else [rows])


def flush() -> int:
    """Execute the collected writes, one executemany per statement; how many statements."""
    pending = _PENDING.get()
    if not pending:
        return 0
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    for statement, rows in pending.items():
        together = _COMBINED.get(statement) if postgresql else None
        # An UPDATE's SET clause is the columns each row gives: one executemany per set.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            shapes.setdefault(tuple(row), []).append(row)
        changed = 0
        for same in shapes.values():
            if together is not None and len(same) > 1:
                changed += connection.execute(*together(same)).rowcount
            else:
                changed += connection.execute(statement, same).rowcount
        if statement in _CHECKED and changed != len(rows):
            raise Stale(f"{len(rows) - changed} of {len(rows)} rows changed meanwhile")
    count = len(pending)
    pending.clear()
    return count
