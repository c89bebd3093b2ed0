"""Settings from PLAINT_* environment variables, with safe defaults."""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from babel.numbers import list_currencies

from . import mailbox_config, oidc_config, report_config

MB = 1024 * 1024
# Room for the form's text fields and the multipart framing around the largest upload.
FORM_MARGIN = 2 * MB

DEFAULTS: dict[str, Any] = {
    "PLAINT_SCRIPT_TIME_LIMIT": 2.0,  # seconds any one diagram expression or script may run
    # Bytes the process may grow by while one diagram expression or script runs.
    "PLAINT_SCRIPT_MEMORY_LIMIT": 64 * MB,
    "PLAINT_MAX_CASE_DATA_BYTES": 1 * MB,  # case data a step may leave, written out as JSON
    "PLAINT_MAX_DIAGRAM_BYTES": 2 * 1024 * 1024,
    "PLAINT_TIMER_LEASE_SECONDS": 300,  # a claimed timer is retried after this if its firer died
    "PLAINT_TIMER_BATCH": 200,
    # A case whose timer fails becomes an incident; it is retried after 5, then 25 minutes
    # (each wait 5 times longer) until this many attempts, then only when someone retries it.
    "PLAINT_TIMER_MAX_ATTEMPTS": 3,
    # Timers may not wake a case more often than this: shorter cycle timers and loops
    # are refused at deploy, or stop the case as an incident when an expression computes one.
    "PLAINT_MIN_TIMER_PERIOD": 60.0,
    # Engine steps one run may take without waiting for a person, a message or a timer.
    "PLAINT_MAX_ENGINE_STEPS": 1000,
    # The longest the scheduler sleeps: how late it can notice a timer another process wrote.
    "PLAINT_SCHEDULER_MAX_SLEEP": 10.0,
    # Where schedulers LISTEN for timers written elsewhere, when the database URL goes
    # through a pooler in transaction mode (PgBouncer), which cannot hold a LISTEN.
    "PLAINT_SCHEDULER_LISTEN_URL": "",
    # Worker processes a scheduler fires a burst of timers in (services/firing.py); None,
    # 0 or 1 fires inline, in the scheduler's own process.
    "PLAINT_SCHEDULER_PROCESSES": None,
    "PLAINT_REFERENCE_PREFIX": "CMP",
    "PLAINT_SPEC_CACHE_SIZE": 32,
    "PLAINT_MAX_ATTACHMENT_BYTES": 10 * MB,  # per document
    "PLAINT_MAX_ATTACHMENTS_PER_UPLOAD": 5,
    "PLAINT_MAX_CASE_ATTACHMENT_BYTES": 50 * MB,  # all documents of one case together
    "PLAINT_STAGED_ATTACHMENT_HOURS": 24,  # documents of an unfinished intake form expire
    # The most text an anonymous form may send (the complaint form, tracking-page answers);
    # documents come on top, within the limits above.
    "PLAINT_MAX_PUBLIC_FORM_BYTES": 256 * 1024,
    # Named in e-mails, letters and the case bundle.
    "PLAINT_ORGANISATION_NAME": "Plaint demo organisation",
    # Where complainants reach the app: links in e-mails sent outside any request.
    "PLAINT_PUBLIC_URL": "http://127.0.0.1:5000",
    # Where a complainant can go after the internal review (ISO 10003).
    "PLAINT_EXTERNAL_BODY": "the external dispute resolution body named in our complaints policy",
    # E-mail (DESIGN decision 12). With no SMTP host nothing is sent: messages wait in the
    # outbox, readable on the admin outbox page, and go out once a host is set.
    "PLAINT_SMTP_HOST": "",
    "PLAINT_SMTP_PORT": 25,
    "PLAINT_SMTP_USERNAME": "",
    "PLAINT_SMTP_PASSWORD": "",
    "PLAINT_SMTP_STARTTLS": False,
    "PLAINT_SMTP_TIMEOUT": 20.0,  # seconds per SMTP exchange
    "PLAINT_MAIL_SENDER": "complaints@localhost",
    "PLAINT_MAIL_MAX_ATTEMPTS": 8,  # then the message is marked failed
    "PLAINT_MAIL_RETRY_SECONDS": 60.0,  # the first retry; each later one waits 5 times longer
    "PLAINT_MAIL_INTERVAL": 10.0,  # how often the scheduler looks for e-mail to send
    "PLAINT_STAFF_LANGUAGE": "en",  # of e-mails to staff (complainants choose their own)
    # ISO 4217 code of the currency remedy amounts are in (pages, letters, e-mails).
    "PLAINT_CURRENCY": "SAR",
    # Related complaints: the same product and category within this many days (either way).
    "PLAINT_RELATED_WINDOW_DAYS": 90,
    # Systemic-issue alert (services/systemic.py): this week's complaints of a category or
    # product must reach this count and exceed the 8 weeks' mean + this many deviations.
    "PLAINT_SYSTEMIC_MIN_CASES": 5,
    "PLAINT_SYSTEMIC_SIGMAS": 2.0,
    # The access log (services/access_log.py): reads older than this many days are purged
    # daily (at least 90: migration 0035's trigger refuses to delete younger rows).
    "PLAINT_ACCESS_LOG_DAYS": 730,
    # Bulk access: one person opening more distinct cases than this within this many
    # minutes raises one alert for the window (services/bulk_access.py).
    "PLAINT_BULK_ACCESS_CASES": 50,
    "PLAINT_BULK_ACCESS_MINUTES": 10,
    # The role that works tasks outside any lane when the deploy names none and the start
    # event is in no lane (engine/bundle.py).
    "PLAINT_DEFAULT_TASK_ROLE": "handler",
    # Service tasks (services/connectors.py): each call gets this long; a failed call is
    # tried again after PLAINT_SERVICE_RETRY_SECONDS, each later wait 5 times longer, up to
    # PLAINT_SERVICE_MAX_ATTEMPTS, then the case stops on an incident.
    "PLAINT_SERVICE_TIMEOUT": 10.0,
    "PLAINT_SERVICE_MAX_ATTEMPTS": 5,
    "PLAINT_SERVICE_RETRY_SECONDS": 30.0,
    "PLAINT_SERVICE_INTERVAL": 5.0,  # how often the scheduler looks for calls to make
    "PLAINT_SERVICE_DEPLOY_TIMEOUT": 3.0,  # asking each proxy for its commands at deploy
    "PLAINT_HTTP_MAX_RESPONSE_BYTES": 1 * MB,  # the most Plaint's HTTP operator reads
    # Webhooks (services/webhook_delivery.py): each post gets this long and reads at most
    # this much of the answer; a failed post is tried again after PLAINT_WEBHOOK_RETRY_SECONDS,
    # each later wait 5 times longer, up to PLAINT_WEBHOOK_MAX_ATTEMPTS, then it is failed.
    "PLAINT_WEBHOOK_TIMEOUT": 10.0,
    "PLAINT_WEBHOOK_MAX_RESPONSE_BYTES": 64 * 1024,
    "PLAINT_WEBHOOK_MAX_ATTEMPTS": 8,
    "PLAINT_WEBHOOK_RETRY_SECONDS": 30.0,
    "PLAINT_WEBHOOK_INTERVAL": 5.0,  # how often the scheduler looks for deliveries to post
    # A signed-in session unused this long ends (web/session_rules.py); API calls carry no
    # session and are not affected.
    "PLAINT_IDLE_TIMEOUT_MINUTES": 30,
    # Accounts nobody signed in to for this many days are switched off by the scheduler
    # (services/dormant.py); 0 turns that off.
    "PLAINT_DORMANT_DAYS": 90,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}

_NUMBERS = {"PLAINT_SCRIPT_TIME_LIMIT": float, "PLAINT_MAX_DIAGRAM_BYTES": int,
            "PLAINT_SCRIPT_MEMORY_LIMIT": int, "PLAINT_MAX_CASE_DATA_BYTES": int,
            "PLAINT_TIMER_LEASE_SECONDS": int, "PLAINT_TIMER_BATCH": int,
            "PLAINT_TIMER_MAX_ATTEMPTS": int, "PLAINT_MIN_TIMER_PERIOD": float,
            "PLAINT_MAX_ENGINE_STEPS": int,
            "PLAINT_SCHEDULER_MAX_SLEEP": float,
            "PLAINT_SPEC_CACHE_SIZE": int, "MAX_CONTENT_LENGTH": int,
            "PLAINT_MAX_ATTACHMENT_BYTES": int, "PLAINT_MAX_ATTACHMENTS_PER_UPLOAD": int,
            "PLAINT_MAX_CASE_ATTACHMENT_BYTES": int, "PLAINT_STAGED_ATTACHMENT_HOURS": float,
            "PLAINT_MAX_PUBLIC_FORM_BYTES": int,
            "PLAINT_SMTP_PORT": int, "PLAINT_SMTP_TIMEOUT": float,
            "PLAINT_MAIL_MAX_ATTEMPTS": int, "PLAINT_MAIL_RETRY_SECONDS": float,
            "PLAINT_MAIL_INTERVAL": float, "PLAINT_RELATED_WINDOW_DAYS": int,
            "PLAINT_SYSTEMIC_MIN_CASES": int, "PLAINT_SYSTEMIC_SIGMAS": float,
            "PLAINT_ACCESS_LOG_DAYS": int, "PLAINT_BULK_ACCESS_CASES": int,
            "PLAINT_BULK_ACCESS_MINUTES": int,
            "PLAINT_SERVICE_TIMEOUT": float, "PLAINT_SERVICE_MAX_ATTEMPTS": int,
            "PLAINT_SERVICE_RETRY_SECONDS": float, "PLAINT_SERVICE_INTERVAL": float,
            "PLAINT_SERVICE_DEPLOY_TIMEOUT": float, "PLAINT_HTTP_MAX_RESPONSE_BYTES": int,
            "PLAINT_WEBHOOK_TIMEOUT": float, "PLAINT_WEBHOOK_MAX_RESPONSE_BYTES": int,
            "PLAINT_WEBHOOK_MAX_ATTEMPTS": int, "PLAINT_WEBHOOK_RETRY_SECONDS": float,
            "PLAINT_WEBHOOK_INTERVAL": float, "PLAINT_IDLE_TIMEOUT_MINUTES": int,
            "PLAINT_DORMANT_DAYS": int}

# A limit of 0 would stop every case (steps, attempts) or let timers spin (period).
_AT_LEAST = {"PLAINT_MAX_ENGINE_STEPS": 10, "PLAINT_TIMER_MAX_ATTEMPTS": 1,
             "PLAINT_MIN_TIMER_PERIOD": 1.0, "PLAINT_SERVICE_MAX_ATTEMPTS": 1,
             "PLAINT_WEBHOOK_MAX_ATTEMPTS": 1, "PLAINT_IDLE_TIMEOUT_MINUTES": 1,
             "PLAINT_DORMANT_DAYS": 0,
             # Migration 0035's trigger refuses to delete reads younger than this.
             "PLAINT_ACCESS_LOG_DAYS": 90, "PLAINT_BULK_ACCESS_CASES": 1,
             "PLAINT_BULK_ACCESS_MINUTES": 1}


class ConfigError(Exception):
    """A setting has a value Plaint cannot use; the message says which and why."""


Proxies = int | tuple[IPv4Network | IPv6Network, ...]


def trusted_proxies(raw: str) -> Proxies:
    """Read PLAINT_TRUSTED_PROXIES: a number of proxy hops, or proxy addresses and networks.

    Empty means no proxy: X-Forwarded-For is then ignored, since any client can send it.
    """
    raw = raw.strip()
    if not raw or raw.isdigit():
        return int(raw or 0)
    try:
        return tuple(ip_network(part.strip(), strict=False)
                     for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"PLAINT_TRUSTED_PROXIES={raw!r}: give the number of proxies in front of "
            "Plaint (e.g. 1), or their addresses or networks separated by commas "
            "(e.g. 10.0.0.0/8, 192.168.1.5)") from None


def currency_code(raw: str) -> str:
    """Read PLAINT_CURRENCY: an ISO 4217 code that Babel knows (SAR, EUR, USD...)."""
    code = raw.strip().upper()
    if code not in list_currencies():
        raise ConfigError(f"PLAINT_CURRENCY={raw!r}: give an ISO 4217 currency code, "
                          "such as SAR, AED, EUR or USD")
    return code


def from_environment(instance_path: str) -> dict[str, Any]:
    """Read PLAINT_* variables over the defaults; fill in the database and secret key."""
    settings = {**DEFAULTS, **report_config.DEFAULTS, **mailbox_config.DEFAULTS,
                **oidc_config.DEFAULTS}
    if os.environ.get("PLAINT_RETURNS") is not None:
        try:
            settings["PLAINT_RETURNS"] = report_config.returns(os.environ["PLAINT_RETURNS"])
        except report_config.ReportConfigError as exc:
            raise ConfigError(str(exc)) from None
    for key, convert in (_NUMBERS | report_config.NUMBERS | mailbox_config.NUMBERS).items():
        raw = os.environ.get(key)
        if raw is not None:
            try:
                settings[key] = convert(raw)
            except ValueError:
                raise ConfigError(f"{key}={raw!r} is not a number") from None
    for key, least in (_AT_LEAST | report_config.AT_LEAST | mailbox_config.AT_LEAST).items():
        if settings[key] < least:
            raise ConfigError(f"{key}={settings[key]!r} must be at least {least}")
    _fit_request_limit(settings, explicit="MAX_CONTENT_LENGTH" in os.environ)
    for key in ("PLAINT_REFERENCE_PREFIX", "PLAINT_ORGANISATION_NAME", "PLAINT_PUBLIC_URL",
                "PLAINT_EXTERNAL_BODY", "PLAINT_SMTP_HOST", "PLAINT_SMTP_USERNAME",
                "PLAINT_SMTP_PASSWORD", "PLAINT_MAIL_SENDER", "PLAINT_STAFF_LANGUAGE",
                "PLAINT_CURRENCY", "PLAINT_DEFAULT_TASK_ROLE", "PLAINT_SCHEDULER_LISTEN_URL"):
        if os.environ.get(key):
            settings[key] = os.environ[key]
    settings["PLAINT_CURRENCY"] = currency_code(settings["PLAINT_CURRENCY"])
    settings["PLAINT_PUBLIC_URL"] = settings["PLAINT_PUBLIC_URL"].rstrip("/")
    settings["SQLALCHEMY_DATABASE_URI"] = os.environ.get("PLAINT_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "plaint.db"))
    settings["SECRET_KEY"] = os.environ.get("PLAINT_SECRET_KEY") or None
    # The audit key signs history and checkpoints; it must not live in the database, and
    # it is not SECRET_KEY (which signs sessions and may be rotated). None: instance file.
    settings["PLAINT_AUDIT_KEY"] = os.environ.get("PLAINT_AUDIT_KEY") or None
    settings["PLAINT_AUDIT_CHECKPOINT_DIR"] = os.environ.get("PLAINT_AUDIT_CHECKPOINT_DIR") or (
        str(Path(instance_path) / "checkpoints"))
    settings["PLAINT_SCHEDULER"] = os.environ.get("PLAINT_SCHEDULER", "off")
    settings["PLAINT_SCHEDULER_PROCESSES"] = scheduler_processes(
        os.environ.get("PLAINT_SCHEDULER_PROCESSES", ""))
    if settings["PLAINT_SCHEDULER"] not in ("off", "in-app"):
        raise ConfigError(f"PLAINT_SCHEDULER={settings['PLAINT_SCHEDULER']!r}: use 'in-app' "
                          "(fire timers inside the web process) or 'off' (run "
                          "`flask --app server scheduler` separately)")
    try:
        mailbox_config.read(settings)
    except mailbox_config.MailboxConfigError as exc:
        raise ConfigError(str(exc)) from None
    try:
        oidc_config.read(settings)
    except oidc_config.OidcConfigError as exc:
        raise ConfigError(str(exc)) from None
    settings["PLAINT_SMTP_STARTTLS"] = os.environ.get(
        "PLAINT_SMTP_STARTTLS", "0").strip().lower() in ("1", "true", "yes", "on")
    # Connections go through PgBouncer in transaction mode: no server-side prepared statements.
    settings["PLAINT_PGBOUNCER"] = os.environ.get("PLAINT_PGBOUNCER", "0").strip() == "1"
    settings["SESSION_COOKIE_SECURE"] = os.environ.get("PLAINT_SECURE_COOKIES", "0") == "1"
    settings["PLAINT_TRUSTED_PROXIES"] = trusted_proxies(
        os.environ.get("PLAINT_TRUSTED_PROXIES", ""))
    settings["PLAINT_CONNECTOR_PROXIES"] = connector_proxies(
        os.environ.get("PLAINT_CONNECTOR_PROXIES", ""))
    settings["PLAINT_CONNECTOR_PROXY_API_KEY"] = os.environ.get(
        "PLAINT_CONNECTOR_PROXY_API_KEY") or None
    settings["PLAINT_HTTP_ALLOWED_HOSTS"] = tuple(
        part.strip().lower() for part in os.environ.get("PLAINT_HTTP_ALLOWED_HOSTS", "").split(",")
        if part.strip())
    settings["PLAINT_HTTP_ALLOWED_NETWORKS"] = networks(
        "PLAINT_HTTP_ALLOWED_NETWORKS", os.environ.get("PLAINT_HTTP_ALLOWED_NETWORKS", ""))
    return settings


def scheduler_processes(raw: str) -> int | None:
    """Read PLAINT_SCHEDULER_PROCESSES: a number of worker processes, or empty for the default."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ConfigError(f"PLAINT_SCHEDULER_PROCESSES={raw!r}: give a number of processes "
                          "(0 or 1 fires timers inside the scheduler process)")
    return int(raw)


def connector_proxies(raw: str) -> tuple[str, ...]:
    """Read PLAINT_CONNECTOR_PROXIES: the base URLs of SpiffArena connector proxies."""
    urls = tuple(part.strip().rstrip("/") for part in raw.replace(" ", ",").split(",")
                 if part.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")) or len(url) < 10:
            raise ConfigError(f"PLAINT_CONNECTOR_PROXIES: {url!r} is not an http(s) URL; give "
                              "the proxies' base URLs separated by commas, e.g. "
                              "http://connectors.internal:7004")
    return urls


def networks(key: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Read a list of addresses or networks separated by commas."""
    try:
        return tuple(ip_network(part.strip(), strict=False)
                     for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{key}={raw!r}: give addresses or networks separated by commas "
                          "(e.g. 10.1.2.0/24, 127.0.0.1)") from None


def _fit_request_limit(settings: dict[str, Any], explicit: bool) -> None:
    """Keep the request size limit above the largest upload the document limits allow.

    A request over MAX_CONTENT_LENGTH is cut off before the app reads it, so the person
    gets a 413 page instead of a message beside the documents field; the limit must
    only catch what no allowed upload can reach.
    """
    largest = (settings["PLAINT_MAX_ATTACHMENT_BYTES"]
               * settings["PLAINT_MAX_ATTACHMENTS_PER_UPLOAD"])
    if not explicit:
        settings["MAX_CONTENT_LENGTH"] = largest + FORM_MARGIN
    elif settings["MAX_CONTENT_LENGTH"] <= largest:
        raise ConfigError(
            f"MAX_CONTENT_LENGTH={settings['MAX_CONTENT_LENGTH']} must be larger than "
            f"PLAINT_MAX_ATTACHMENT_BYTES x PLAINT_MAX_ATTACHMENTS_PER_UPLOAD ({largest}), "
            "or oversize documents are cut off without a message beside the field")


def instance_secret_key(instance_path: str, name: str = "secret_key") -> str:
    """Return the secret key kept in the instance folder, creating it on first use.

    The file is created with mode 0600 and never committed; a deployment with several
    web processes sets PLAINT_SECRET_KEY (or shares the instance folder) instead. The
    audit key is a second such file, "audit_key" (or PLAINT_AUDIT_KEY).
    """
    path = Path(instance_path) / name
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
