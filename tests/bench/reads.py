"""Reading a case for `make bench`: what the access log adds to each read (issue 18).

Every read of a case's record writes one access-log row in its own short transaction (on
SQLite a write lock, BEGIN IMMEDIATE) and counts the reader's recent reads for the bulk
rule. Measured on one SQLite database of CASES closed-and-open cases, median of CALLS:
* case_page_get_ms: GET /cases/<ref> by a signed-in handler through the test client, as
  shipped (the log written);
* case_page_get_unlogged_ms: the same with the access-log receiver disconnected;
* access_log_read_ms: the difference, what one logged read costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .timers import median_ms

CASES = 50
CALLS = 300


def reads_run(folder: Path) -> tuple[list[str], dict[str, Any]]:
    """Time case page reads with and without the access log; table lines and figures."""
    from server import create_app, signals
    from server.services import cases
    from server.web import access_log
    from tests.support import data as c
    from tests.support.app import app_config
    from tests.support.web import make_user, sign_in

    app = create_app({**app_config(f"sqlite:///{folder / 'reads.db'}"),
                      "WTF_CSRF_ENABLED": False})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        make_user("hana", "handler")
        references = [cases.start_case(dict(c.INTAKE), "web", c.HANDLER).case.reference
                      for _ in range(CASES)]
    client = app.test_client()
    sign_in(client, "hana")
    turn = iter(range(10**9))

    def read() -> None:
        # Few distinct cases per minute, so the bulk-access rule never fires here.
        answer = client.get(f"/cases/{references[next(turn) % 5]}")
        assert answer.status_code == 200, answer.status_code

    logged = median_ms(read, CALLS)
    signals.case_read.disconnect(access_log._on_read)
    try:
        unlogged = median_ms(read, CALLS)
    finally:
        signals.case_read.connect(access_log._on_read)
    figures = {"case_page_get_ms": round(logged, 2),
               "case_page_get_unlogged_ms": round(unlogged, 2),
               "access_log_read_ms": round(logged - unlogged, 2)}
    lines = [f"case page GET (SQLite, {CASES} cases), median of {CALLS}: {logged:.2f} ms with "
             f"the access log, {unlogged:.2f} ms without; one logged read costs "
             f"{logged - unlogged:.2f} ms"]
    return lines, figures
