"""The dashboard's passes at once: each independent query on a connection of its own.

The database does the work of a pass (PostgreSQL in a backend process of its own; SQLite
in C with Python's lock released while it steps), so a page view waits for its slowest
pass rather than for the sum of them. The passes only read, and each thread runs in an
app context of its own, so each has its own session and connection; what they find is
kept on the `Figures` (its cached passes) for the report tables to read.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from flask import Flask, current_app

from ...extensions import db
from .figures import Figures

VOLUMES = ("category", "product", "channel", "cause")


def prefetch(figures: Figures, workers: int) -> None:
    """Run the passes every dashboard view needs, `workers` at a time (1: leave them lazy)."""
    if workers < 2 or not _shares_data():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    passes: list[Callable[[], Any]] = [
        lambda: figures.times, lambda: figures.by_bucket, lambda: figures.paid,
        *(partial(figures.volume, name) for name in VOLUMES)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report") as pool:
        for done in [pool.submit(_run, app, one) for one in passes]:
            done.result()  # a failed pass fails the page as it would have run alone


def _run(app: Flask, one: Callable[[], Any]) -> None:
    with app.app_context():
        try:
            one()
        finally:
            db.session.remove()


def _shares_data() -> bool:
    """Whether another connection sees the same data (not so for an in-memory SQLite)."""
    database = db.engine.url.database
    return db.engine.dialect.name != "sqlite" or database not in (None, "", ":memory:")
