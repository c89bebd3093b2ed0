"""A throwaway PostgreSQL server for the test run, in a temporary folder on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    """A running server; `url(name)` is the SQLAlchemy URL of one of its databases."""

    root: Path
    port: int
    bindir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (a copy of `template`, if given); its SQLAlchemy URL."""
        self._maintain(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever is still connected to it."""
        self._maintain(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _maintain(self, statement: str) -> None:
        import psycopg  # only where a server runs

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(statement)

    def stop(self) -> None:
        _run_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                          "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_postgres(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    # initdb refuses to run as root; CI runs as root, so switch to the postgres user.
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


def start(bindir: Path) -> PostgresServer:
    """Create a cluster in a temporary folder and start it on a free loopback port."""
    root = Path(tempfile.mkdtemp(prefix="plaint-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    _run_as_postgres([str(bindir / "initdb"), "-D", str(root / "data"), "-A", "trust",
                      "-U", "postgres", "--no-sync", "-E", "UTF8"])
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    _run_as_postgres([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", options,
                      "-l", str(root / "log"), "-w", "start"])
    server = PostgresServer(root, port, bindir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("PostgreSQL did not start; see its log")
