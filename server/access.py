"""Who may do what: the one table of capabilities and the roles that hold them.

Routes declare the capability they need (`requires`, `guard`), menus and the landing
page after sign-in are read from `MENU`, the inbox and task services ask `can`, and the
generated authorization test reads `rule_for`. Record-level rules (a task assigned to
someone else, objectivity, a tracking token) are the services' to check.

One rule is not static: any role that a deployed process version routes a task to may
open its inbox and work that task (a diagram that consults a "specialist" makes the
specialist a task worker without a code change).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, g, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from .errors import Forbidden, Unauthenticated
from .extensions import db
from .models import ProcessVersion
from .services.actors import Actor

F = TypeVar("F", bound=Callable[..., Any])

WORK_TASKS = "work_tasks"          # the inbox; claiming and completing tasks of one's roles
SUPERVISE = "supervise"            # the team's inbox; releasing and reassigning anyone's task
READ_CASES = "read_cases"          # case search, case pages, documents, letters, bundles
WRITE_CASES = "write_cases"        # internal notes and documents on a case
RECORD_COMPLAINT = "record_complaint"  # staff intake (phone, walk-in, letter, e-mail)
REOPEN_CASES = "reopen_cases"      # reopen a closed case, with a reason
STUDIO = "studio"                  # edit, check and deploy process versions
ADMIN = "admin"                    # accounts, roles, lanes, calendar, escalation policy
READ_OUTBOX = "read_outbox"        # the e-mails Plaint wrote and their delivery
RESEND_MAIL = "resend_mail"        # send a failed or held e-mail again
HANDLE_INCIDENTS = "handle_incidents"  # the cases stopped because a timer step failed
RETRY_INCIDENTS = "retry_incidents"    # run a stopped case's timers again after a fix
READ_REPORTS = "read_reports"      # the dashboard, analyses, returns, ISO 10002 evidence, exports
AUDIT_SAMPLES = "audit_samples"    # draw and work through audit samples of closed cases
MANAGE_ACTIONS = "manage_actions"  # corrective actions; the management-review pack's schedule
MANAGE_WEBHOOKS = "manage_webhooks"  # webhook subscriptions, their secrets and delivery log
# Owning cases: the first task of one of these roles taken on a case makes its taker the
# owner, and later tasks of the role go to them (services/ownership.py).
OWN_CASES = "own_cases"
MANAGE_API_CLIENTS = "manage_api_clients"  # API clients: create, change, new token, revoke
READ_ACCESS_LOG = "read_access_log"  # the access log, its CSV, bulk-access alerts (acknowledge)
SEE_CASE_READERS = "see_case_readers"  # "who opened this case" on a case page, and its list
MANAGE_RETENTION = "manage_retention"  # retention rules, their dry run
HOLD_CASES = "hold_cases"  # place and lift a legal hold on a case (retention skips it)
# Need-to-know (services/visibility.py): read every case, whatever its team, confidential too.
READ_ALL_CASES = "read_all_cases"
MARK_CONFIDENTIAL = "mark_confidential"  # mark a case confidential and name who may read it
# Data-subject requests (PDPL): record them, find a person's data, export it, erase it.
DATA_REQUESTS = "data_requests"

CASE_STAFF = frozenset({"handler", "supervisor", "complaints_manager"})

# The table. A role not named here gets a capability only through the routing rule.
TABLE: dict[str, frozenset[str]] = {
    WORK_TASKS: CASE_STAFF,
    SUPERVISE: frozenset({"supervisor", "complaints_manager"}),
    READ_CASES: CASE_STAFF | {"auditor"},
    WRITE_CASES: CASE_STAFF,
    RECORD_COMPLAINT: CASE_STAFF,
    REOPEN_CASES: frozenset({"supervisor", "complaints_manager"}),
    STUDIO: frozenset({"process_owner", "admin"}),
    ADMIN: frozenset({"admin"}),
    READ_OUTBOX: frozenset({"admin", "auditor"}),
    RESEND_MAIL: frozenset({"admin"}),
    HANDLE_INCIDENTS: frozenset({"complaints_manager", "process_owner", "admin"}),
    RETRY_INCIDENTS: frozenset({"admin"}),
    OWN_CASES: frozenset({"handler"}),
    READ_REPORTS: frozenset({"supervisor", "complaints_manager", "auditor"}),
    AUDIT_SAMPLES: frozenset({"auditor", "complaints_manager"}),
    MANAGE_ACTIONS: frozenset({"complaints_manager"}),
    MANAGE_WEBHOOKS: frozenset({"admin"}),
    MANAGE_API_CLIENTS: frozenset({"admin"}),
    READ_ACCESS_LOG: frozenset({"auditor", "admin"}),
    SEE_CASE_READERS: frozenset({"auditor", "complaints_manager"}),
    MANAGE_RETENTION: frozenset({"admin"}),
    HOLD_CASES: frozenset({"complaints_manager"}),
    READ_ALL_CASES: frozenset({"complaints_manager", "auditor"}),
    MARK_CONFIDENTIAL: frozenset({"supervisor", "complaints_manager"}),
    DATA_REQUESTS: frozenset({"privacy_officer", "complaints_manager"}),
}

# API scopes: what an API client's bearer token opens under /api/v1 (server/web/api).
# Clients hold scopes, not roles; a work-scope client acts with its acting user's roles,
# so the task rules above still decide which tasks it may work.
API_INTAKE = "intake"      # file complaints
API_READ = "read"          # read cases and their history
API_WORK = "work"          # list, claim and complete tasks, send messages, as the acting user
API_WEBHOOKS = "webhooks"  # event subscriptions
SCOPES = (API_INTAKE, API_READ, API_WORK, API_WEBHOOKS)
SCOPE_RULE = "scope:"      # how an API view's rule names its scope in `rule_for`
ROUTED = frozenset({WORK_TASKS})  # capabilities also held by every role tasks are routed to

REFUSED = "Your roles do not give access to this page."
PUBLIC = "public"        # anyone, signed in or not (record-level rules still apply)
SIGNED_IN = "signed_in"  # any signed-in member of staff


@dataclass(frozen=True)
class MenuItem:
    """A link in the main menu, shown to those who hold its capability."""

    capability: str
    endpoint: str
    label: Any  # a lazy translation


# In menu order; the first item a person may use is where sign-in takes them.
MENU = (
    MenuItem(WORK_TASKS, "inbox.index", _l("Inbox")),
    MenuItem(RECORD_COMPLAINT, "portal.staff_intake", _l("Record a complaint")),
    MenuItem(RECORD_COMPLAINT, "mailbox.index", _l("Mailbox")),
    MenuItem(READ_CASES, "cases.search", _l("Cases")),
    MenuItem(STUDIO, "studio.index", _l("Processes")),
    MenuItem(ADMIN, "admin.user_list", _l("Admin")),
    MenuItem(READ_OUTBOX, "admin_outbox.outbox_list", _l("Outbox")),
    MenuItem(HANDLE_INCIDENTS, "incidents.index", _l("Incidents")),
    MenuItem(READ_REPORTS, "reports.dashboard", _l("Reports")),
    MenuItem(READ_REPORTS, "actions.register", _l("Actions")),
    MenuItem(AUDIT_SAMPLES, "audit_samples.index", _l("Audit samples")),
    MenuItem(READ_ACCESS_LOG, "access_log.index", _l("Access log")),
    MenuItem(DATA_REQUESTS, "data_requests.index", _l("Data requests")),
)


def routed_roles() -> frozenset[str]:
    """The roles that some deployed process version routes a task to (once per request)."""
    cached: frozenset[str] | None = g.get("plaint_routed_roles")
    if cached is None:
        cached = frozenset(role for role_map in db.session.scalars(select(ProcessVersion.role_map))
                           for role in (role_map or {}).values())
        g.plaint_routed_roles = cached
    return cached


def roles_with(capability: str) -> frozenset[str]:
    """Every role that holds a capability, the routing rule included."""
    roles = TABLE[capability]
    return roles | routed_roles() if capability in ROUTED else roles


def can(who: Any, capability: str) -> bool:
    """Whether a user or an actor (anything with `role_names` or `roles`) holds a capability."""
    if capability not in TABLE:
        raise KeyError(f"unknown capability {capability!r}")
    if not getattr(who, "is_authenticated", True):
        return False
    held = who.roles if isinstance(who, Actor) else who.role_names
    if held & TABLE[capability]:
        return True
    # Only people outside the table pay for the routing query.
    return capability in ROUTED and bool(held & routed_roles())


def require(who: Any, capability: str) -> None:
    """Raise Forbidden unless `who` holds the capability."""
    if not can(who, capability):
        raise Forbidden(REFUSED)


def _mark(view: Callable[..., Any], rule: str) -> None:
    setattr(view, "plaint_access", (*getattr(view, "plaint_access", ()), rule))  # noqa: B010


def requires(capability: str,
             or_record: Callable[..., bool] | None = None) -> Callable[[F], F]:
    """Let in signed-in users who hold the capability; others get 403 (or sign-in).

    `or_record(actor, **view_args)` lets in, for one record, someone without the
    capability (a consulted specialist reads the case they are asked about).
    """
    if capability not in TABLE:
        raise KeyError(f"unknown capability {capability!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, capability) and not (
                    or_record is not None and or_record(current_actor(), **kwargs)):
                raise Forbidden(REFUSED)
            return view(*args, **kwargs)

        _mark(wrapper, capability)
        if or_record is not None:
            _mark(wrapper, f"or {or_record.__name__}")
        return cast(F, wrapper)

    return decorate


def requires_scope(*scopes: str) -> Callable[[F], F]:
    """Let in API clients holding one of the scopes; cookies never authenticate an API call.

    The API blueprint puts the authenticated client in `g.api_caller` (anything with
    `scopes`); without one the call is unauthenticated (401), with the wrong scope 403.
    """
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise KeyError(f"unknown API scopes {unknown!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = g.get("api_caller")
            if caller is None:
                raise Unauthenticated(_l("Send your API token as 'Authorization: Bearer "
                                         "<token>'."))
            if not set(scopes) & caller.scopes:
                raise Forbidden(str(_l("This API client lacks the scope this call needs: "
                                       "%(scopes)s.", scopes=" or ".join(scopes))))
            return view(*args, **kwargs)

        for scope in scopes:
            _mark(wrapper, SCOPE_RULE + scope)
        return cast(F, wrapper)

    return decorate


def requires_sign_in(view: F) -> F:
    """Let in any signed-in member of staff, whatever their roles."""
    wrapper = cast(F, login_required(view))
    _mark(wrapper, SIGNED_IN)
    return wrapper


def public(view: F) -> F:
    """Declare a view open to anyone; its record-level checks are its services'."""
    _mark(view, PUBLIC)
    return view


_GUARDS: dict[str, str] = {}


def guard(blueprint: Blueprint, capability: str) -> None:
    """Require a capability for every view of a blueprint."""
    if capability not in TABLE:
        raise KeyError(f"unknown capability {capability!r}")
    _GUARDS[blueprint.name] = capability

    @blueprint.before_request
    @login_required
    def check() -> None:
        require(current_user, capability)


def rule_for(app: Flask, endpoint: str) -> tuple[str, ...]:
    """The capabilities (or PUBLIC) an endpoint declares, blueprint guard first; () if none."""
    if endpoint == "static":
        return (PUBLIC,)
    blueprint = endpoint.rpartition(".")[0]
    own = getattr(app.view_functions[endpoint], "plaint_access", ())
    return ((_GUARDS[blueprint],) if blueprint in _GUARDS else ()) + tuple(own)


def menu() -> list[MenuItem]:
    """The menu items the signed-in person may use."""
    if not current_user.is_authenticated:
        return []
    return [item for item in MENU if can(current_user, item.capability)]


def landing(user: Any) -> str:
    """Where a person goes after sign-in: the first page of the menu they may use."""
    item = next((item for item in MENU if can(user, item.capability)), None)
    return url_for(item.endpoint) if item else url_for("auth.no_access")


def current_actor() -> Actor:
    """The signed-in user as the services see them."""
    return Actor.for_user(current_user)


def init_app(app: Flask) -> None:
    """Give templates the menu and the capability check."""
    app.jinja_env.globals.update(
        menu=menu, can=lambda capability: can(current_user, capability))
