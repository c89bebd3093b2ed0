"""The production recipe, started for real: gunicorn, schedulers and the mail deliverer.

The README's "Running it in production" as processes on loopback: `flask init-db` on a
PostgreSQL database, gunicorn with server/gunicorn_conf.py, `flask scheduler` processes and
`flask deliver-mail --loop` sending to an SMTP server. The recipe test and the soak both
start it from here; each process writes its output to a log file in the run's folder.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from server import create_app
from server.extensions import db

from .app import app_config
from .data import PASSWORD
from .mail import free_port
from .wait import wait_for
from .web import make_user

REPO = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "server"]
STOP_SECONDS = 30.0


class Stack:
    """One deployment: its settings, its processes, and starting, killing and stopping them."""

    def __init__(self, folder: Path, database_url: str, smtp_port: int, workers: int = 3,
                 schedulers: int = 2, web_database_url: str | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.scheduler_count = schedulers
        # What the operator puts in the environment file: the same secrets for every process.
        self.env = {**os.environ, "TZ": "UTC", "PLAINT_DATABASE_URL": database_url,
                    "PLAINT_SECRET_KEY": "recipe-secret-key-not-for-production",
                    "PLAINT_AUDIT_KEY": "recipe-audit-key-not-for-production",
                    "PLAINT_AUDIT_CHECKPOINT_DIR": str(folder / "checkpoints"),
                    "PLAINT_PUBLIC_URL": self.url, "PLAINT_SCHEDULER": "off",
                    "PLAINT_SCHEDULER_MAX_SLEEP": "1", "PLAINT_TIMER_LEASE_SECONDS": "10",
                    "PLAINT_MAIL_SENDER": "complaints@bank.example",
                    "PLAINT_ORGANISATION_NAME": "Gulf Bank",
                    "PLAINT_SMTP_HOST": "127.0.0.1", "PLAINT_SMTP_PORT": str(smtp_port),
                    "PLAINT_SMTP_TIMEOUT": "2", "PLAINT_MAIL_INTERVAL": "1",
                    "PLAINT_MAIL_RETRY_SECONDS": "2"}
        # Web workers may reach the database through PgBouncer; the schedulers never do.
        self.web_env = {**self.env, "PLAINT_DATABASE_URL": web_database_url,
                        "PLAINT_PGBOUNCER": "1"} if web_database_url else self.env
        self.web: subprocess.Popen[bytes] | None = None
        self.schedulers: list[subprocess.Popen[bytes]] = []
        self.deliverer: subprocess.Popen[bytes] | None = None
        self._started = 0

    def command(self, *args: str) -> str:
        """Run one `flask --app server` command to its end; its output (fails loudly)."""
        done = subprocess.run([*FLASK, *args], cwd=REPO, env=self.env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def set_up(self, *accounts: tuple[str, str], by_command: bool = True) -> None:
        """Migrate and deploy (`init-db`), then make staff accounts (name, role).

        By `create-user`, as the README says; or, where the command is not what is tested,
        all in one app in this process (each command starts the app: seconds apiece).
        """
        self.command("init-db")
        if by_command:
            for username, role in accounts:
                self.command("create-user", username, "--role", role, "--password", PASSWORD,
                             "--email", f"{username}@bank.example")
            return
        app = create_app({**app_config(self.env["PLAINT_DATABASE_URL"]),
                          "PLAINT_AUDIT_KEY": self.env["PLAINT_AUDIT_KEY"]})
        with app.app_context():
            for username, role in accounts:
                make_user(username, role, email=f"{username}@bank.example")
            db.engine.dispose()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self._started += 1
        log = open(self.folder / f"{self._started:03d}-{name}.log", "wb")  # noqa: SIM115
        with log:  # the child holds its own copy of the file
            return subprocess.Popen(args, cwd=REPO, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_web(self) -> None:
        """gunicorn with the repository's configuration, on a loopback port."""
        env = {**self.web_env, "PLAINT_BIND": f"127.0.0.1:{self.port}",
               "PLAINT_WEB_WORKERS": str(self.workers), "PLAINT_ACCESS_LOG": "-"}
        self.web = self._spawn("gunicorn", [
            sys.executable, "-m", "gunicorn", "-c", "python:server.gunicorn_conf",
            "server:create_app()"], env)
        assert wait_for(self._answers, 120), "gunicorn did not answer: see " + str(self.folder)
        assert wait_for(lambda: len(self.worker_pids()) == self.workers, 60)

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/login", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        """One more `flask scheduler` process."""
        # Schedulers leave e-mail to the deliverer, as in the README's units.
        process = self._spawn("scheduler", [*FLASK, "scheduler", "--no-mail"], self.env)
        self.schedulers.append(process)
        return process

    def start_deliverer(self) -> None:
        """`flask deliver-mail --loop`, the one process that sends e-mail."""
        self.deliverer = self._spawn("deliverer", [*FLASK, "deliver-mail", "--loop"], self.env)

    def start(self) -> None:
        """Everything the README's units start: the web, the schedulers, the deliverer."""
        self.start_web()
        for _ in range(self.scheduler_count):
            self.start_scheduler()
        self.start_deliverer()

    def worker_pids(self) -> list[int]:
        """The process ids of gunicorn's workers now (children of its master)."""
        assert self.web is not None
        try:
            text = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_worker(self) -> int:
        """kill -9 one web worker (gunicorn's master starts another); its pid."""
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_scheduler(self) -> int:
        """kill -9 the oldest scheduler and start another, as systemd's Restart= would."""
        victim = self.schedulers.pop(0)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        self.start_scheduler()
        return victim.pid

    def kill_deliverer(self) -> int:
        """kill -9 the mail deliverer and start another, as systemd's Restart= would."""
        assert self.deliverer is not None
        victim = self.deliverer
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        self.start_deliverer()
        return victim.pid

    def alive(self) -> list[str]:
        """The processes that should run but exited (empty when all run)."""
        named = [("gunicorn", self.web), ("deliverer", self.deliverer)]
        named += [("scheduler", s) for s in self.schedulers]
        return [name for name, p in named if p is not None and p.poll() is not None]

    def stop(self) -> None:
        """SIGTERM every process, as systemctl stop does; SIGKILL what outlives the wait."""
        running = [p for p in (self.web, self.deliverer, *self.schedulers) if p is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        """The tail of every process's log, for a failing assertion's message."""
        return "\n".join(f"== {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                         for log in sorted(self.folder.glob("*.log")))


@contextmanager
def running(folder: Path, database_url: str, smtp_port: int, accounts: list[tuple[str, str]],
            workers: int = 3, schedulers: int = 2, web_database_url: str | None = None,
            accounts_by_command: bool = True) -> Iterator[Stack]:
    """A set-up, started stack for the block; every process stopped after it, whatever happens."""
    stack = Stack(folder, database_url, smtp_port, workers, schedulers, web_database_url)
    stack.set_up(*accounts, by_command=accounts_by_command)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
