"""Page requests for `make bench`: what one request of each kind costs the web layer (issue 19).

A signed-in handler works CASES cases through the Flask test client the way a browser does
(CSRF on, the session cookie carried): the inbox, the acknowledgement's task page, its
form sent back (the step itself included), then the case page. Each kind's median in ms,
wall clock and CPU time (steadier on a shared machine), on one SQLite database; no
network, so this is the server's own cost per request. `python -m tests.bench.requests
[--profile]` runs it alone; with --profile it also prints each kind's server functions by
time spent under them and leaves pstats files beside the temporary folder.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES = 40  # with the five warm-up cases, under the bulk-access threshold (50)
KINDS = ("inbox_get", "task_get", "task_post", "case_get")
_VERSION = re.compile(r'name="case_version" value="(\d+)"')


def requests_run(folder: Path, profile: bool = False) -> tuple[list[str], dict[str, Any]]:
    """Time the four page requests a handler makes per case; table lines and figures."""
    from sqlalchemy import event, select

    from server import create_app
    from server.extensions import db
    from server.models import HumanTask
    from server.services import cases
    from tests.support import data as c
    from tests.support.app import app_config
    from tests.support.web import form_token, make_user, sign_in

    app = create_app({**app_config(f"sqlite:///{folder / 'requests.db'}"), "TESTING": False})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        make_user("hana", "handler")
        paths = []
        for _ in range(CASES + 5):
            case = cases.start_case(dict(c.INTAKE), "web", c.HANDLER).case
            task_id = db.session.scalar(select(HumanTask.task_id)
                                        .where(HumanTask.case_id == case.id))
            paths.append((case.reference, f"/cases/{case.reference}/tasks/{task_id}"))
        db.session.remove()
    client = app.test_client()
    sign_in(client, "hana")
    statements: list[bool] = []  # one entry per SQL statement sent
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *args: statements.append(True))
    queries: dict[str, list[int]] = {kind: [] for kind in KINDS}
    spent: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    profiles = {kind: cProfile.Profile() for kind in KINDS}

    def timed(kind: str, call: Callable[[], Any], expect: int) -> Any:
        profiler = profiles[kind] if profile else None
        before = len(statements)
        started, used = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        answer = call()
        if profiler:
            profiler.disable()
        spent[kind].append(time.perf_counter() - started)
        cpu[kind].append(time.process_time() - used)
        queries[kind].append(len(statements) - before)
        assert answer.status_code == expect, (kind, answer.status_code)
        return answer

    for reference, path in paths:
        timed("inbox_get", lambda: client.get("/tasks"), 200)
        page = timed("task_get", lambda p=path: client.get(p), 200).get_data(as_text=True)
        version = _VERSION.search(page)
        form = {**c.ACK, "csrf_token": form_token(page),
                "case_version": version.group(1) if version else ""}
        timed("task_post", lambda p=path, f=form: client.post(p, data=f), 302)
        timed("case_get", lambda r=reference: client.get(f"/cases/{r}"), 200)
    # The first five cases warm the caches up.
    medians = {kind: statistics.median(spent[kind][5:]) * 1000 for kind in KINDS}
    cpu_medians = {kind: statistics.median(cpu[kind][5:]) * 1000 for kind in KINDS}
    figures = {**{f"page_{kind}_p50_ms": round(value, 2) for kind, value in medians.items()},
               **{f"page_{kind}_cpu_p50_ms": round(value, 2)
                  for kind, value in cpu_medians.items()},
               **{f"page_{kind}_queries": statistics.median(queries[kind][5:]) for kind in KINDS}}
    lines = [f"page requests (SQLite, test client, signed-in handler), median of {CASES}, "
             "wall (CPU) ms: " + ", ".join(
                 f"{kind.replace('_', ' ')} {medians[kind]:.2f} ({cpu_medians[kind]:.2f})"
                 for kind in KINDS),
             "SQL statements per request: " + ", ".join(
                 f"{kind.replace('_', ' ')} {statistics.median(queries[kind][5:]):g}"
                 for kind in KINDS)]
    with app.app_context():
        db.engine.dispose()
    if profile:
        for kind in KINDS:
            out = io.StringIO()
            profiles[kind].dump_stats(str(folder.parent / f"plaint-{kind}.prof"))
            pstats.Stats(profiles[kind], stream=out).sort_stats("cumulative").print_stats(
                r"server/", 40)
            lines.append(f"--- {kind}\n{out.getvalue()}")
    return lines, figures


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        table, numbers = requests_run(Path(tmp), "--profile" in sys.argv)
    print("\n".join(table))
    print(numbers)
