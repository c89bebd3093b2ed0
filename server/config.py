"""Settings from PLAINT_* environment variables, with safe defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "PLAINT_SCRIPT_TIME_LIMIT": 2.0,  # seconds any one diagram expression or script may run
    "PLAINT_MAX_DIAGRAM_BYTES": 2 * 1024 * 1024,
    "PLAINT_TIMER_LEASE_SECONDS": 300,  # a claimed timer is retried after this if its firer died
    "PLAINT_TIMER_BATCH": 200,
    "PLAINT_REFERENCE_PREFIX": "CMP",
    "PLAINT_SPEC_CACHE_SIZE": 32,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}

_NUMBERS = {"PLAINT_SCRIPT_TIME_LIMIT": float, "PLAINT_MAX_DIAGRAM_BYTES": int,
            "PLAINT_TIMER_LEASE_SECONDS": int, "PLAINT_TIMER_BATCH": int,
            "PLAINT_SPEC_CACHE_SIZE": int, "MAX_CONTENT_LENGTH": int}


class ConfigError(Exception):
    """A setting has a value Plaint cannot use; the message says which and why."""


def from_environment(instance_path: str) -> dict[str, Any]:
    """Read PLAINT_* variables over the defaults; fill in the database and secret key."""
    settings = dict(DEFAULTS)
    for key, convert in _NUMBERS.items():
        raw = os.environ.get(key)
        if raw is not None:
            try:
                settings[key] = convert(raw)
            except ValueError:
                raise ConfigError(f"{key}={raw!r} is not a number") from None
    if os.environ.get("PLAINT_REFERENCE_PREFIX"):
        settings["PLAINT_REFERENCE_PREFIX"] = os.environ["PLAINT_REFERENCE_PREFIX"]
    settings["SQLALCHEMY_DATABASE_URI"] = os.environ.get("PLAINT_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "plaint.db"))
    settings["SECRET_KEY"] = os.environ.get("PLAINT_SECRET_KEY") or None
    settings["SESSION_COOKIE_SECURE"] = os.environ.get("PLAINT_SECURE_COOKIES", "0") == "1"
    return settings


def instance_secret_key(instance_path: str) -> str:
    """Return the secret key kept in the instance folder, creating it on first use.

    The file is created with mode 0600 and never committed; a deployment with several
    web processes sets PLAINT_SECRET_KEY (or shares the instance folder) instead.
    """
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
