"""Finding benchmarks for `make bench`: case search and the inbox's Unclaimed tab at 100,000.

One SQLite database holds PLAINT_BENCH_SEARCH_CASES cases (100,000), inserted in bulk as
rows copied from one case started through the services, with names, e-mails, products,
words, categories, priorities, statuses and received times varied. OPEN_SHARE of them are
open, each with one ready task; half of those are unclaimed tasks of the handler role, the
other half held by one of HOLDERS handlers. The full-text index is kept by the database's
own triggers (migration 0015) for every writer; for this bulk load the insert trigger
waits and the index is built in one pass ('rebuild'), 20 s quicker than row by row.

Measured, median of many calls of the services themselves (so the figures follow the code):
* case_search_ms_at_100k: `search.find()` for an exact reference typed in lower case, and
  for a surname that about 1% of the cases share (a count and the first page of 50);
* inbox_unclaimed_ms_at_100k: `inbox.inbox()` for a handler's Unclaimed tab, first page,
  the default sort; SQLite's plan of each statement it runs is printed with the figures.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text

from .timers import median_ms

CASES = int(os.environ.get("PLAINT_BENCH_SEARCH_CASES", "100000"))
OPEN_SHARE = 0.2
HOLDERS = 10
CALLS = 200
CHUNK = 10_000
FIRST = ("Layla", "Omar", "Mona", "Khalid", "Sara", "Yusuf", "Huda", "Tariq", "Noura", "Ali",
         "Fatima", "Hassan", "Reem", "Majid", "Aisha", "Samir", "Dana", "Faisal", "Lina", "Adel")
# 100 surnames, so each is shared by about 1% of the cases.
LAST = tuple(f"{stem}{suffix}" for stem in (
    "Haddad", "Farouk", "Otaibi", "Qureshi", "Nasser", "Khoury", "Saleh", "Mansour", "Hamdan",
    "Rahman") for suffix in ("", "i", "a", "an", "ani", "ly", "er", "o", "is", "eh"))
PRODUCTS = ("Current account", "Savings account", "Credit card", "Mortgage", "Personal loan",
            "Mobile app", "Branch service", "Insurance")
WORDS = ("charged twice", "transfer delayed", "card blocked", "rude staff", "wrong fee",
         "app crashed", "statement missing", "refund refused", "long queue", "letter lost")
STATUSES = ("Received", "Acknowledged", "Being investigated", "Response sent", "Closed")
WORD = "Mansourly"  # the surname searched for


def build(count: int) -> dict[str, Any]:
    """Insert `count` cases (OPEN_SHARE open, each with a ready task); what to search for."""
    from server.extensions import db
    from server.models import Case, HumanTask
    from server.services import cases, policy, users
    from tests.support.data import HANDLER, INTAKE

    holders = [users.create_user(f"holder{n}", ["handler"], "bench-password-123")[0].id
               for n in range(HOLDERS)]
    started = cases.start_case(dict(INTAKE), "web", HANDLER).case
    row = dict(db.session.execute(select(Case.__table__).where(Case.id == started.id))
               .one()._mapping)
    task = dict(db.session.execute(select(HumanTask.__table__).where(
        HumanTask.case_id == started.id)).one()._mapping)
    pick = random.Random(13)
    now = row["received_at"]
    next_id = started.id + 1
    trigger = db.session.scalar(text("SELECT sql FROM sqlite_master "
                                     "WHERE type = 'trigger' AND name = 'case_search_insert'"))
    db.session.execute(text("DROP TRIGGER case_search_insert"))
    for start in range(0, count, CHUNK):
        case_rows, task_rows = [], []
        for case_id in range(next_id + start, next_id + min(count, start + CHUNK)):
            first, last = pick.choice(FIRST), pick.choice(LAST)
            is_open = pick.random() < OPEN_SHARE
            received = now - timedelta(minutes=7 * (next_id + count - case_id))
            case_rows.append({
                **row, "id": case_id, "reference": f"CMP-{2000 + case_id // 1_000_000}-"
                f"{case_id % 1_000_000:06d}", "tracking_token_hash": None,
                "complainant_name": f"{first} {last}",
                "complainant_email": f"{first.lower()}.{last.lower()}{case_id}@example.com",
                "product_service": pick.choice(PRODUCTS),
                "description": f"{pick.choice(WORDS)} on my {pick.choice(PRODUCTS).lower()}, "
                               f"{pick.choice(WORDS)} after I called.",
                "category": pick.choice(policy.CATEGORIES),
                "priority": pick.choice(policy.PRIORITIES),
                "status_label": pick.choice(STATUSES[:-1]) if is_open else "Closed",
                "is_open": is_open, "received_at": received,
                "closed_at": None if is_open else received + timedelta(days=9)})
            if is_open:
                task_rows.append({
                    **{k: v for k, v in task.items() if k != "id"}, "case_id": case_id,
                    "task_id": str(uuid.UUID(int=pick.getrandbits(128))),
                    "assignee_id": pick.choice(holders) if pick.random() < 0.5 else None,
                    "due_at": received + timedelta(days=2), "created_at": received})
        _insert(Case.__table__, case_rows)
        _insert(HumanTask.__table__, task_rows)
        db.session.commit()
    # One pass over the table instead of an insert per row (a fixture, not a write path).
    db.session.execute(text("INSERT INTO case_search(case_search) VALUES ('rebuild')"))
    db.session.execute(text(trigger))
    db.session.commit()
    some = next_id + count // 3
    reference = db.session.scalar(select(Case.reference).where(Case.id == some))
    return {"reference": reference, "word": WORD,
            "word_matches": db.session.scalar(select(func.count()).select_from(Case).where(
                Case.complainant_name.endswith(f" {WORD}"))),
            "open": db.session.scalar(select(func.count()).select_from(Case)
                                      .where(Case.is_open))}


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows with the driver's executemany (SQLAlchemy's per-row work costs seconds)."""
    from server.extensions import db

    if not rows:
        return
    names = [column.name for column in table.columns if column.name in rows[0]]
    sql = (f'INSERT INTO "{table.name}" ({", ".join(names)}) '
           f'VALUES ({", ".join("?" * len(names))})')
    db.session.connection().exec_driver_sql(sql, [tuple(_stored(row[name]) for name in names)
                                                  for row in rows])


def _stored(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (UTC timestamps without zone, 0/1)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def statements(fn: Any) -> list[tuple[str, Any]]:
    """The SQL statements (and parameters) that one call of `fn` runs."""
    from server.extensions import db

    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def plans(fn: Any) -> list[str]:
    """SQLite's plan of each statement `fn` runs, one line each."""
    from server.extensions import db

    lines = []
    for statement, parameters in statements(fn):
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all()
        lines.append("; ".join(row[-1] for row in plan))
    db.session.rollback()
    return lines


def search_run(folder: Path) -> tuple[list[str], dict[str, float]]:
    """Build the cases, time the searches and the Unclaimed tab; table lines and figures."""
    from server import create_app
    from server.extensions import db
    from server.services import inbox, search
    from server.services.actors import Actor

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'search.db'}",
                      "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        t0 = time.perf_counter()
        made = build(CASES)
        built = time.perf_counter() - t0
        exact = search.Filters(q=made["reference"].lower())
        words = search.Filters(q=made["word"].lower())
        found = search.find(exact)
        assert [r.reference for r in found.rows] == [made["reference"]], found
        found = search.find(words)
        assert found.total == made["word_matches"] > 0, found.total
        assert len(found.rows) == min(50, found.total), len(found.rows)
        handler = Actor("bench-handler", 10_000_000, frozenset({"handler"}))
        unclaimed = inbox.inbox(handler, view="unclaimed")
        figures = {
            "search_exact_ms": median_ms(lambda: search.find(exact), CALLS),
            "search_word_ms": median_ms(lambda: search.find(words), CALLS),
            "inbox_unclaimed_ms": median_ms(lambda: inbox.inbox(handler, view="unclaimed"),
                                            CALLS),
        }
        inbox_plans = plans(lambda: inbox.inbox(handler, view="unclaimed"))
        word_plans = plans(lambda: search.find(words))
        db.engine.dispose()
    lines = [
        f"Finding cases: {CASES:,} cases ({made['open']:,} open, each with one ready task, "
        f"half unclaimed), SQLite, built in {built:.1f} s; median of {CALLS} calls",
        f"{'case search, exact reference, ms':<44}{figures['search_exact_ms']:>10.3f}",
        f"{'case search, a surname, ms':<44}{figures['search_word_ms']:>10.3f}"
        f"  ({made['word_matches']:,} matches: count and first page of 50)",
        f"{'inbox Unclaimed tab, ms':<44}{figures['inbox_unclaimed_ms']:>10.3f}"
        f"  ({unclaimed.total:,} unclaimed tasks: count and first page)",
        *(f"  plan, word search: {line}" for line in word_plans),
        *(f"  plan, Unclaimed: {line}" for line in inbox_plans),
    ]
    return lines, {
        "case_search_ms_at_100k": {"exact_reference": round(figures["search_exact_ms"], 3),
                                   "word": round(figures["search_word_ms"], 3)},
        "inbox_unclaimed_ms_at_100k": round(figures["inbox_unclaimed_ms"], 3),
    }


if __name__ == "__main__":  # `python -m tests.bench.search`: these figures alone
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table, numbers = search_run(Path(tmp))
    print("\n".join(table))
    print(json.dumps(numbers))
