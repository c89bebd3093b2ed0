"""A throwaway PgBouncer in transaction mode in front of the test run's PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .mail import free_port
from .pg import PostgresServer
from .wait import stop_process


def find() -> str | None:
    """The pgbouncer binary (Debian's package puts it in /usr/sbin), if installed."""
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer",) if os.access(path, os.X_OK)), None)


@contextmanager
def transaction_pool(binary: str, server: PostgresServer, database: str) -> Iterator[str]:
    """PgBouncer pooling `database` in transaction mode on a loopback port; its SQLAlchemy URL.

    Two server connections for everyone, taken in turn (`server_round_robin`), so
    consecutive transactions of one client land on different server connections, as they
    do under load.
    """
    root = Path(tempfile.mkdtemp(prefix="plaint-pgbouncer-"))
    port = free_port()
    (root / "users.txt").write_text('"postgres" ""\n')
    (root / "pgbouncer.ini").write_text(f"""[databases]
{database} = host=127.0.0.1 port={server.port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/users.txt
pool_mode = transaction
default_pool_size = 2
server_round_robin = 1
max_client_conn = 200
logfile = {root}/log
ignore_startup_parameters = extra_float_digits,options
""")
    command = [binary, str(root / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root, as initdb does
        shutil.chown(root, "postgres", "postgres")
        for child in root.iterdir():
            shutil.chown(child, "postgres", "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("PgBouncer did not start: " + _log(root)) from None
                time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)


def _log(root: Path) -> str:
    try:
        return (root / "log").read_text()[-2000:]
    except OSError:
        return "(no log)"
