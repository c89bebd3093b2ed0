"""The web as a browser uses it: gunicorn on loopback, complainants and handlers over HTTP.

Each client is one handler (signed in once, one keep-alive connection) and, for every case,
a complainant (a keep-alive connection of their own): the public form (GET, POST, the
confirmation page it redirects to), the handler's inbox, each task page (GET, POST, the
inbox it redirects to), the complainant's answer on the tracking page, the closing task.
CSRF tokens and the case version come from the pages, as a browser sends them back.

Runs: one client on one worker over keep-alive connections (the latency figures, against
the engine's step in the same run), then 4 clients on SQLite with 1 and 4 workers, then on
PostgreSQL with 1 and 2, each request on a connection of its own as behind a reverse proxy
(a few keep-alive connections would pin the work to the workers that accepted them).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .engine import engine_run, percentile

CASES = int(os.environ.get("PLAINT_BENCH_HTTP_CASES", "60"))
THREADS = int(os.environ.get("PLAINT_BENCH_HTTP_THREADS", "2"))
ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "server" / "gunicorn_conf.py"
WORKFLOW_STEPS = ("intake GET", "intake POST", "inbox GET", "task GET", "task POST",
                  "answer POST", "redirect")

FLOOR = "healthz GET"
FLOOR_REQUESTS = 200

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_VERSION = re.compile(r'name="case_version" value="([^"]*)"')
_REFERENCE = re.compile(r"<strong>(CMP-\d{4}-\d{6})</strong>")
_TRACKING = re.compile(r'id="tracking-link">([^<]+)<')

INTAKE = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
          "product_service": "Current account",
          "description": "I was charged twice for the same transfer on 3 March.",
          "remedy_sought": "Refund the duplicate charge", "consent": "true"}
# The reference process's user tasks as a handler fills them in (form fields are text).
TASKS = ({"acknowledgement_channel": "email",
          "acknowledgement_message": "We have your complaint."},
         {"in_scope": "true", "category": "billing", "product": "other", "severity": "serious",
          "complexity": "simple", "vulnerable_customer": "false", "regulator_involved": "false",
          "immediate_action_needed": "false"},
         {"findings": "The transfer was booked twice.", "need_information": "false"},
         {"outcome": "upheld", "response": "We refunded the charge.",
          "remedy_offered": "Refund"})
CLOSE = {"closure_reason": "accepted", "final_outcome": "upheld", "root_cause": "process",
         "corrective_action_needed": "false"}


class Browser:
    """One keep-alive connection with a cookie jar; every request timed under a step name."""

    def __init__(self, port: int, times: dict[str, list[float]], keep_alive: bool = True) -> None:
        self.port = port
        self.times = times
        self.keep_alive = keep_alive
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, step: str, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, str, str]:
        """Send one request; the status, the Location header and the page."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept": "text/html", "Accept-Language": "en"}
        if content_type:
            headers["Content-Type"] = content_type
        if not self.keep_alive:
            headers["Connection"] = "close"
        for attempt in (0, 1):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                page = response.read().decode()
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # The server may close an idle keep-alive connection; a browser reconnects.
                self.conn.close()
                if attempt:
                    raise
                continue
            self.times.setdefault(step, []).append(time.perf_counter() - t0)
            if not self.keep_alive:
                self.conn.close()
            break
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=Thu, 01 Jan 1970" not in raw:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        location = response.headers.get("Location", "")
        return response.status, urlsplit(location).path + (
            "?" + urlsplit(location).query if urlsplit(location).query else ""), page

    def get(self, step: str, path: str) -> str:
        """GET a page that must answer 200."""
        status, _, page = self.request(step, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}\n{page[:2000]}")
        return page

    def post(self, step: str, path: str, values: dict[str, str], page: str) -> str:
        """POST a form with the page's CSRF token and follow its redirect; the page reached."""
        token = _TOKEN.search(page)
        if token is None:
            raise RuntimeError(f"no form on the page before POST {path}")
        body = urlencode({**values, "csrf_token": token.group(1)}).encode()
        status, location, answer = self.request(step, "POST", path, body,
                                                "application/x-www-form-urlencoded")
        if status != 302:
            raise RuntimeError(f"POST {path}: {status}\n{answer[:3000]}")
        return self.get("redirect", location)

    def post_multipart(self, step: str, path: str, values: dict[str, str], page: str) -> str:
        """POST a multipart form as the browser sends one (an empty file field included)."""
        token = _TOKEN.search(page)
        assert token, f"no form on {path}"
        boundary = "----plaintbench" + uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 for k, v in {**values, "csrf_token": token.group(1)}.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="documents"; '
                     f'filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n')
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        status, location, answer = self.request(step, "POST", path, body,
                                                f"multipart/form-data; boundary={boundary}")
        if status != 302:
            raise RuntimeError(f"POST {path}: {status}\n{answer[:3000]}")
        return self.get("redirect", location)


def _task_link(handler: Browser, reference: str, page: str | None) -> str:
    """The path of the case's open task, from the page at hand or the inbox."""
    wanted = re.compile(rf'href="(/cases/{reference}/tasks/[^"]+)"')
    found = wanted.search(page) if page else None
    views = iter(("", "?view=unclaimed", "?view=mine", "?view=team"))
    while found is None:
        view = next(views)  # StopIteration: the task is nowhere to be seen, a failure
        found = wanted.search(handler.get("inbox GET", "/tasks" + view))
    return found.group(1)


def _do_task(handler: Browser, reference: str, values: dict[str, str],
             page: str | None) -> str:
    """Open the case's task, send its form; the inbox page it redirects to."""
    path = _task_link(handler, reference, page)
    form = handler.get("task GET", path)
    version = _VERSION.search(form)
    extra = {"case_version": version.group(1)} if version else {}
    return handler.post("task POST", path, {**values, **extra}, form)


def one_case(handler: Browser, complainant: Browser) -> None:
    """A complaint from the public form to closing, as complainant and handler do it."""
    complainant.cookies.clear()
    complainant.conn.close()  # each complaint comes from another person's browser
    form = complainant.get("intake GET", "/complaints/new")
    done = complainant.post_multipart("intake POST", "/complaints/new", INTAKE, form)
    reference, link = _REFERENCE.search(done), _TRACKING.search(done)
    assert reference and link, "no reference or tracking link on the confirmation page"
    tracking = urlsplit(link.group(1)).path
    page: str | None = handler.get("inbox GET", "/tasks")
    for values in TASKS:
        page = _do_task(handler, reference.group(1), values, page)
    asked = complainant.get("redirect", tracking)
    complainant.post("answer POST", f"{tracking}/complainant_response", {"accepted": "true"},
                     asked)
    _do_task(handler, reference.group(1), CLOSE, None)


def sign_in(browser: Browser, username: str, password: str) -> None:
    """The sign-in form, once per handler."""
    page = browser.get("sign-in", "/login")
    token = _TOKEN.search(page)
    assert token
    status, _, answer = browser.request(
        "sign-in", "POST", "/login",
        urlencode({"username": username, "password": password,
                   "csrf_token": token.group(1)}).encode(), "application/x-www-form-urlencoded")
    if status != 302:
        raise RuntimeError(f"sign-in refused: {status}\n{answer[:2000]}")


def _cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of a gunicorn master and of each of its live workers."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    spent = {}
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        spent[one] = (int(fields[11]) + int(fields[12])) / tick
    return spent


@dataclass
class Run:
    """What one configuration measured."""

    label: str
    cases: int
    seconds: float
    server_cpu: float
    client_cpu: float
    worker_cpu: list[float]
    times: dict[str, list[float]] = field(default_factory=dict)

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.seconds


@contextmanager
def gunicorn(url: str, workers: int, folder: Path) -> Iterator[tuple[int, int]]:
    """Serve `server:create_app()` on a free loopback port; (port, master pid)."""
    from tests.support.mail import free_port

    port = free_port()
    env = {**os.environ, "PLAINT_DATABASE_URL": url, "PLAINT_SECRET_KEY": secrets.token_hex(32),
           "PLAINT_AUDIT_KEY": secrets.token_hex(32), "PLAINT_SCHEDULER": "off",
           "PLAINT_AUDIT_CHECKPOINT_DIR": str(folder / "checkpoints"), "TZ": "UTC"}
    # The repo's configuration when there is one; else what it sets, on the command line.
    options = ["-c", str(CONF)] if CONF.exists() else \
        ["--worker-class", "gthread", "--threads", str(THREADS), "--keep-alive", "30"]
    with open(folder / "gunicorn.log", "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options, "--workers", str(workers),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "server:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/login")
                probe.getresponse().read()
                probe.close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start: see "
                                       f"{folder / 'gunicorn.log'}") from None
                time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _prepare(url: str, clients: int) -> None:
    """Tables, the reference process, and one handler account per client."""
    from server import create_app
    from server.extensions import db
    from tests.support.app import app_config, init_database
    from tests.support.web import make_user

    init_database(url)
    app = create_app(app_config(url))
    with app.app_context():
        for i in range(clients):
            make_user(f"bench{i}", "handler")
        db.engine.dispose()


def measure(label: str, url: str, folder: Path, workers: int, clients: int,
            cases: int, keep_alive: bool = True) -> Run:
    """Serve a fresh database with `workers` workers; `clients` clients share `cases` cases.

    Without `keep_alive` each request has a connection of its own, as gunicorn sees
    requests behind a reverse proxy that does not keep upstream connections (nginx's
    default): each request then goes to whichever worker accepts it first.
    """
    from tests.support.data import PASSWORD

    _prepare(url, clients)
    with gunicorn(url, workers, folder) as (port, pid):
        times: dict[str, list[float]] = {}
        pairs = []
        for i in range(clients):
            handler = Browser(port, {}, keep_alive)
            sign_in(handler, f"bench{i}", PASSWORD)
            pairs.append((handler, Browser(port, {}, keep_alive)))
        for handler, complainant in pairs:  # warm every worker's caches up
            for _ in range(workers):
                one_case(handler, complainant)
        left = [cases]
        lock = threading.Lock()
        errors: list[BaseException] = []

        def client(handler: Browser, complainant: Browser) -> None:
            mine: dict[str, list[float]] = {}
            handler.times = complainant.times = mine
            while True:
                with lock:
                    if left[0] <= 0 or errors:
                        break
                    left[0] -= 1
                try:
                    one_case(handler, complainant)
                except BaseException as exc:
                    errors.append(exc)
                    break
            with lock:
                for step, values in mine.items():
                    times.setdefault(step, []).extend(values)

        threads = [threading.Thread(target=client, args=pair) for pair in pairs]
        cpu0, mine0, t0 = _cpu_seconds(pid), time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - t0
        cpu1, client_cpu = _cpu_seconds(pid), time.process_time() - mine0
        if clients == 1:
            # The floor of any request here, outside the cases' figures: the same signed-in
            # client asks for the health check, which reads one row and renders no page.
            handler = pairs[0][0]
            handler.times = times
            for _ in range(FLOOR_REQUESTS):
                handler.get(FLOOR, "/healthz")
        # Per worker, to see how evenly keep-alive connections spread the work.
        workers_cpu = sorted((cpu1[p] - cpu0.get(p, 0.0) for p in cpu1 if p != pid),
                             reverse=True)
        for handler, complainant in pairs:
            handler.conn.close()
            complainant.conn.close()
    if errors:
        raise errors[0]
    return Run(label, cases, seconds, sum(workers_cpu) + cpu1[pid] - cpu0[pid], client_cpu,
               workers_cpu, times)


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on a throwaway PostgreSQL server, or None without the binaries."""

    from tests.support import pg

    bindir = pg.find_bindir()
    if bindir is None:
        yield None
        return
    server = pg.start(bindir)
    try:
        yield server.create_database("bench")
    finally:
        server.stop()


def _ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000 if values else float("nan")


def _lines(run: Run) -> list[str]:
    """A run's table: throughput and CPU per case, then each step's p50 and p95."""
    lines = [f"{run.label}: {run.cases_per_s:.1f} cases/s ({run.cases} cases in "
             f"{run.seconds:.1f} s), CPU per case: server {run.server_cpu / run.cases * 1000:.0f}"
             f" ms, clients {run.client_cpu / run.cases * 1000:.0f} ms; worker CPU s "
             + "/".join(f"{cpu:.1f}" for cpu in run.worker_cpu)]
    for step in (*WORKFLOW_STEPS, FLOOR):
        values = run.times.get(step, [])
        if step == FLOOR and not values:
            continue
        lines.append(f"  {step:<14}{len(values):>7}{_ms(values, 50):>9.2f}{_ms(values, 95):>9.2f}")
    return lines


def http_run(folder: Path) -> tuple[list[str], dict[str, float]]:
    """The HTTP benchmark: table lines and its figures for the JSON line."""
    engine_run(10)  # warm imports and caches, as the main benchmark does
    engine = engine_run(max(CASES, 50))
    runs = [measure("SQLite, 1 worker, 1 client", f"sqlite:///{folder / 'one.db'}", folder,
                    1, 1, CASES)]
    # Workers compared with a connection per request (as behind the recipe's proxy): with
    # 4 keep-alive clients, 4 connections pin to whichever workers accepted them.
    sqlite = [measure(f"SQLite, {w} worker{'s' if w > 1 else ''}, 4 clients, per-request "
                      "connections", f"sqlite:///{folder / f'w{w}.db'}", folder, w, 4,
                      CASES * 2, keep_alive=False)
              for w in (1, 4)]
    runs += sqlite
    figures: dict[str, float] = {}
    for pg_workers in (1, 2):
        with postgres_database() as url:
            if url is None:
                break
            runs.append(measure(f"PostgreSQL, {pg_workers} worker{'s' if pg_workers > 1 else ''}"
                                ", 4 clients, per-request connections", url, folder,
                                pg_workers, 4, CASES * 2, keep_alive=False))
    post_p50 = _ms(runs[0].times["task POST"], 50)
    lines = [f"HTTP: gunicorn on loopback, the browser's requests of each case (intake, inbox, "
             f"task pages and POSTs, the complainant's answer, redirects followed); "
             f"engine step p50 {engine['p50_ms']:.2f} ms in the same run",
             f"{'':<16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}"]
    for run in runs:
        lines += _lines(run)
    figures.update({
        "http_cases_per_s": round(runs[0].cases_per_s, 1),
        "http_task_post_p50_ms": round(post_p50, 2),
        "engine_step_p50_ms": round(engine["p50_ms"], 2),
        "http_to_engine_ratio": round(engine["p50_ms"] / post_p50, 2),
        "http_floor_p50_ms": round(_ms(runs[0].times[FLOOR], 50), 2),
        "http_server_cpu_ms_per_case": round(runs[0].server_cpu / runs[0].cases * 1000, 1),
        "sqlite_workers_1_cases_per_s": round(sqlite[0].cases_per_s, 1),
        "sqlite_workers_4_cases_per_s": round(sqlite[1].cases_per_s, 1),
    })
    if len(runs) == 5:
        figures["pg_workers_1_cases_per_s"] = round(runs[3].cases_per_s, 1)
        figures["pg_workers_2_cases_per_s"] = round(runs[4].cases_per_s, 1)
        figures["pg_workers_speedup"] = round(runs[4].cases_per_s / runs[3].cases_per_s, 2)
    return lines, figures


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table, figures = http_run(Path(tmp))
    print("\n".join(table))
    print(json.dumps(figures))
