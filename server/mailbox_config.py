"""Settings of the complaints mailbox read over IMAP (PLAINT_MAILBOX_* variables).

Read by config.from_environment at start; a bad value stops the start with a message that
says what to write instead. With no PLAINT_MAILBOX_HOST no mailbox is read.
"""

from __future__ import annotations

import json
import os
from typing import Any

MB = 1024 * 1024
TLS_MODES = ("tls", "starttls", "plain")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}

DEFAULTS: dict[str, Any] = {
    "PLAINT_MAILBOX_HOST": "",  # empty: no mailbox is read
    "PLAINT_MAILBOX_PORT": 0,  # 0: 993 for implicit TLS, 143 for STARTTLS and plain
    "PLAINT_MAILBOX_TLS": "tls",  # tls (implicit), starttls, or plain (loopback only)
    "PLAINT_MAILBOX_USER": "",
    "PLAINT_MAILBOX_PASSWORD": "",
    "PLAINT_MAILBOX_FOLDER": "INBOX",
    # Where a message goes once recorded; empty: it stays, flagged \Seen.
    "PLAINT_MAILBOX_DONE_FOLDER": "",
    "PLAINT_MAILBOX_INTERVAL": 60.0,  # seconds between two readings when IDLE is not used
    "PLAINT_MAILBOX_IDLE": True,  # wait with IDLE where the server offers it
    "PLAINT_MAILBOX_TIMEOUT": 30.0,  # seconds per IMAP exchange
    "PLAINT_MAILBOX_MAX_BYTES": 25 * MB,  # a larger message is kept for a person, unread
    "PLAINT_MAILBOX_BATCH": 50,  # messages read per run; the rest on the next
    "PLAINT_MAILBOX_LEASE_SECONDS": 300,  # one reader at a time; a dead one's turn expires
    # Intake fields an e-mail cannot fill, given for every e-mailed complaint (JSON object).
    # Writing to the complaints address is asking us to handle the complaint, so the
    # reference process's consent box counts as ticked; {} keeps such mail for a person.
    "PLAINT_MAILBOX_INTAKE_DEFAULTS": {"consent": True},
}
NUMBERS = {"PLAINT_MAILBOX_PORT": int, "PLAINT_MAILBOX_INTERVAL": float,
           "PLAINT_MAILBOX_TIMEOUT": float, "PLAINT_MAILBOX_MAX_BYTES": int,
           "PLAINT_MAILBOX_BATCH": int, "PLAINT_MAILBOX_LEASE_SECONDS": int}
AT_LEAST = {"PLAINT_MAILBOX_INTERVAL": 1.0, "PLAINT_MAILBOX_TIMEOUT": 1.0,
            "PLAINT_MAILBOX_MAX_BYTES": 1024, "PLAINT_MAILBOX_BATCH": 1,
            "PLAINT_MAILBOX_LEASE_SECONDS": 30}
TEXTS = ("PLAINT_MAILBOX_HOST", "PLAINT_MAILBOX_USER", "PLAINT_MAILBOX_PASSWORD",
         "PLAINT_MAILBOX_FOLDER", "PLAINT_MAILBOX_DONE_FOLDER")


class MailboxConfigError(ValueError):
    """A mailbox setting that cannot be used."""


def read(settings: dict[str, Any]) -> None:
    """Read the PLAINT_MAILBOX_* variables into `settings` (over DEFAULTS) and check them."""
    for key in TEXTS:
        if os.environ.get(key) is not None:
            settings[key] = os.environ[key].strip() if key != "PLAINT_MAILBOX_PASSWORD" \
                else os.environ[key]
    if os.environ.get("PLAINT_MAILBOX_TLS"):
        settings["PLAINT_MAILBOX_TLS"] = os.environ["PLAINT_MAILBOX_TLS"].strip().lower()
    if os.environ.get("PLAINT_MAILBOX_IDLE") is not None:
        settings["PLAINT_MAILBOX_IDLE"] = os.environ["PLAINT_MAILBOX_IDLE"].strip().lower() \
            in ("1", "true", "yes", "on")
    raw = os.environ.get("PLAINT_MAILBOX_INTAKE_DEFAULTS")
    if raw is not None:
        settings["PLAINT_MAILBOX_INTAKE_DEFAULTS"] = intake_defaults(raw)
    check(settings)


def intake_defaults(raw: str) -> dict[str, Any]:
    """The intake values every e-mailed complaint gets, from a JSON object."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise MailboxConfigError(
            f"PLAINT_MAILBOX_INTAKE_DEFAULTS={raw!r} is not a JSON object; write e.g. "
            '{"consent": true}, or {} to keep mail the intake form refuses for a person')
    return value


def check(settings: dict[str, Any]) -> None:
    """Refuse a TLS mode we do not know, and plain IMAP to anything but this machine."""
    mode = settings["PLAINT_MAILBOX_TLS"]
    if mode not in TLS_MODES:
        raise MailboxConfigError(f"PLAINT_MAILBOX_TLS={mode!r}: use tls (implicit TLS, port "
                                 "993), starttls (port 143) or plain (loopback only)")
    host = settings["PLAINT_MAILBOX_HOST"]
    if host and mode == "plain" and host.lower() not in LOOPBACK:
        raise MailboxConfigError(
            f"PLAINT_MAILBOX_TLS=plain sends the mailbox password unencrypted, so it is "
            f"allowed only to this machine (127.0.0.1, ::1, localhost), not {host!r}: "
            "use tls or starttls")
    if host and not settings["PLAINT_MAILBOX_USER"]:
        raise MailboxConfigError("PLAINT_MAILBOX_HOST is set but PLAINT_MAILBOX_USER is not: "
                                 "give the mailbox's user name (and PLAINT_MAILBOX_PASSWORD)")


def port(settings: dict[str, Any]) -> int:
    """The port to connect to: the one set, or the usual one for the TLS mode."""
    return int(settings["PLAINT_MAILBOX_PORT"]) or DEFAULT_PORTS[settings["PLAINT_MAILBOX_TLS"]]
