"""gunicorn settings for Plaint: `gunicorn -c python:server.gunicorn_conf 'server:create_app()'`.

Read by gunicorn alone (never imported by the app). Every value can be changed by an
environment variable, so one unit file serves every machine; see the README's "Running it
in production".
"""

from __future__ import annotations

import os


def _number(name: str, default: int) -> int:
    """An integer setting from the environment, or the default."""
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# Loopback by default: the reverse proxy in front is what the world reaches.
bind = [part.strip() for part in os.environ.get("PLAINT_BIND", "127.0.0.1:8000").split(",")
        if part.strip()]
# A step is mostly CPU (the engine, templates) with short database waits: one worker per core.
workers = _number("PLAINT_WEB_WORKERS", os.cpu_count() or 2)
worker_class = "sync"
# A request never runs longer than the sandbox limits plus database time; a worker stuck
# far past that is killed and replaced rather than left holding a connection.
timeout = _number("PLAINT_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5  # behind a reverse proxy that keeps connections to us open
# Each worker builds its own app and so its own connection pool: connections made before
# a fork would be shared by several processes.
preload_app = False
# The heartbeat file on a memory file system: a slow disk must not make workers look dead.
# gunicorn makes it there with mkstemp (private, unpredictable name), so a shared folder is safe.
_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = _MEMORY if os.path.isdir(_MEMORY) else None
accesslog = os.environ.get("PLAINT_ACCESS_LOG", "-")
errorlog = "-"
# Only the proxy on this machine may say the request came over HTTPS (X-Forwarded-Proto);
# client addresses for sign-in pacing are read by the app itself (PLAINT_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("PLAINT_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "plaint-web"
