"""Dashboard benchmark for `make bench`: the full /reports query set at 100,000 and 1,000,000.

Each SQLite database holds that many cases and their case_report rows, inserted in bulk
(case rows copied from one case started through the services; the full-text trigger is
dropped for the load, since the dashboard never searches words). The cases are received
evenly over the last three years; those of the last 60 days are mostly open, with owners
among HOLDERS handlers; outcomes, causes, times, flags, scores and remedies vary.

Measured, median of CALLS calls: every report of the dashboard computed from a fresh
`Figures` (all the SQL a page view runs, labels included; the template is not rendered),
for the default period (the last 90 days) and for the last 12 months. Where PostgreSQL's
binaries are installed (tests/support/pg.py), the same rows are copied there and measured.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from .search import _insert
from .timers import median_ms

SIZES = tuple(int(n) for n in os.environ.get("PLAINT_BENCH_DASHBOARD_SIZES",
                                             "100000,1000000").split(",") if n)
PG_SIZES = tuple(int(n) for n in os.environ.get("PLAINT_BENCH_DASHBOARD_PG_SIZES",
                                                "100000,1000000").split(",") if n)
CALLS = int(os.environ.get("PLAINT_BENCH_DASHBOARD_CALLS", "7"))
CHUNK = 20_000
HOLDERS = 20
SPAN_DAYS = 3 * 365
CATEGORIES = ("service_quality", "billing", "product_defect", "staff_conduct", "delay",
              "other")
PRODUCTS = tuple(f"product_{n:02d}" for n in range(20))
CHANNELS = ("web", "phone", "walk_in", "letter", "email", "api")
CAUSES = tuple(f"cause_{n:02d}" for n in range(15))
OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn", "out_of_scope")


def build(count: int) -> dict[str, Any]:
    """Insert `count` cases with their reporting rows; how many are open."""
    from server.extensions import db
    from server.models import Case, CaseReport
    from server.services import cases, users
    from tests.support.data import HANDLER, INTAKE

    holders = [users.create_user(f"holder{n}", ["handler"], "bench-password-123")[0].id
               for n in range(HOLDERS)]
    started = cases.start_case(dict(INTAKE), "web", HANDLER).case
    row = dict(db.session.execute(select(Case.__table__).where(Case.id == started.id))
               .one()._mapping)
    db.session.execute(text("DELETE FROM case_report"))
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        db.session.execute(text("DROP TRIGGER IF EXISTS case_search_insert"))
    pick = random.Random(10002)
    now = row["received_at"]
    first = started.id + 1
    opened = 0
    for start in range(0, count, CHUNK):
        case_rows, report_rows = [], []
        for case_id in range(first + start, first + min(count, start + CHUNK)):
            age = SPAN_DAYS * (first + count - case_id) / count
            received = now - timedelta(days=age)
            is_open = age < 60 and pick.random() < 0.8 - age / 100
            opened += is_open
            closed = None if is_open else received + timedelta(days=pick.uniform(1, 40))
            case_rows.append({**row, "id": case_id, "tracking_token_hash": None,
                              "reference": f"CMP-{2000 + case_id // 1_000_000}-"
                                           f"{case_id % 1_000_000:06d}",
                              "is_open": is_open, "received_at": received,
                              "closed_at": closed})
            resolution = None if is_open else pick.uniform(4, 400)
            report_rows.append({
                "case_id": case_id, "received_at": received, "closed_at": closed,
                "is_open": is_open, "priority": pick.choice(("low", "medium", "high", "urgent")),
                "channel": pick.choice(CHANNELS), "product": pick.choice(PRODUCTS),
                "category": pick.choice(CATEGORIES),
                "cause": None if is_open else pick.choice(CAUSES),
                "outcome": None if is_open else pick.choice(OUTCOMES),
                "remedy_amount": None if is_open or pick.random() < 0.7
                else round(pick.uniform(10, 2000), 2),
                "remedy_currency": pick.choice(("SAR", "SAR", "AED")),
                "acknowledge_hours": pick.uniform(0.1, 40),
                "resolution_hours": resolution,
                "paused_hours": 0.0,
                "acknowledgement_on_target": pick.random() < 0.9,
                "response_on_target": None if is_open else pick.random() < 0.8,
                "resolution_on_target": None if is_open else resolution < 300,  # type: ignore[operator]
                "escalation_level": pick.choice((0, 0, 0, 0, 1, 2)),
                "reopen_count": 1 if pick.random() < 0.04 else 0,
                "first_contact_resolution": pick.random() < 0.3,
                "satisfaction": None if is_open or pick.random() < 0.6 else pick.randint(1, 5),
                "owner_id": pick.choice(holders) if is_open and pick.random() < 0.9 else None,
                "updated_at": now})
        if sqlite:
            _insert(Case.__table__, case_rows)
            _insert(CaseReport.__table__, report_rows)
        else:  # SQLAlchemy's batched INSERT ... VALUES (the types adapt the values)
            db.session.execute(insert(Case.__table__), case_rows)
            db.session.execute(insert(CaseReport.__table__), report_rows)
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"open": opened}


def dashboard(preset: str) -> Callable[[], Any]:
    """One page view's worth of report tables for a preset period."""
    from flask import current_app

    from server.services.reports import REPORTS, filters
    from server.services.reports.figures import Figures
    from server.services.reports.parallel import prefetch

    def run() -> Any:
        asked = filters.parse({"preset": preset}).filters
        figures = Figures(asked)
        prefetch(figures, current_app.config["PLAINT_REPORT_WORKERS"])  # as the page does
        return [report.table(figures) for report in REPORTS]

    return run


def measure(url: str, size: int) -> tuple[float, int, dict[str, float]]:
    """Build `size` cases at `url` and time the dashboard: build seconds, open, figures."""
    from server import create_app
    from server.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.test_request_context("/reports"):
        t0 = time.perf_counter()
        made = build(size)
        built = time.perf_counter() - t0
        measured = {preset: median_ms(dashboard(preset), CALLS)
                    for preset in ("last_90_days", "last_12_months")}
        db.engine.dispose()
    return built, made["open"], measured


def _line(backend: str, size: int, built: float, opened: int,
          measured: dict[str, float]) -> str:
    where = f"{backend}, {size:,} cases ({opened:,} open), built in {built:.0f} s"
    return (f"{where:<60}90 days {measured['last_90_days']:>8.1f} ms   "
            f"12 months {measured['last_12_months']:>8.1f} ms")


def _key(size: int) -> str:
    return f"dashboard_ms_at_{size // 1000}k" if size < 1_000_000 \
        else f"dashboard_ms_at_{size // 1_000_000}m"


def dashboard_run(folder: Path) -> tuple[list[str], dict[str, Any]]:
    """Build each size, time the dashboard; table lines and the figures."""
    from tests.support import pg

    lines = [f"Dashboard: every report of /reports (all its SQL), cases received evenly "
             f"over 3 years; default period (90 days) and 12 months; median of {CALLS} calls"]
    figures: dict[str, Any] = {}
    for size in SIZES:
        built, opened, measured = measure(f"sqlite:///{folder / f'd{size}.db'}", size)
        lines.append(_line("SQLite", size, built, opened, measured))
        figures[_key(size)] = {"sqlite_90_days": round(measured["last_90_days"], 1),
                               "sqlite_12_months": round(measured["last_12_months"], 1)}
    bindir = pg.find_bindir()
    if bindir is None or not PG_SIZES:
        lines.append("PostgreSQL: no server binaries, not measured")
        return lines, figures

    server = pg.start(bindir)
    try:
        for size in PG_SIZES:
            name = f"dash{size}"
            built, opened, measured = measure(server.create_database(name), size)
            lines.append(_line("PostgreSQL", size, built, opened, measured))
            figures.setdefault(_key(size), {}).update(
                {"postgresql_90_days": round(measured["last_90_days"], 1),
                 "postgresql_12_months": round(measured["last_12_months"], 1)})
    finally:
        server.stop()
    return lines, figures


if __name__ == "__main__":  # `python -m tests.bench.dashboard`: these figures alone
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table, numbers = dashboard_run(Path(tmp))
    print("\n".join(table))
    print(json.dumps(numbers))
