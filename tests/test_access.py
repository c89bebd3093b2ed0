"""Authorization generated from the app: every route x every role (and nobody) x record.

Each rule of `app.url_map` is requested with every method it takes, by a person holding
each role alone, by a person with no role and by someone signed out, and the answer is
checked against the access table (server/access.py): refused (403, or sign-in for the
signed out) exactly when the table refuses. A route that declares no rule fails. Record
rules are checked on real records: another handler's task, another case's documents
through a tracking token, a role a diagram routes work to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import access
from server.extensions import db
from server.models import ROLES, Attachment, Case, HumanTask
from server.services import users
from tests.support.api import api_token, bearer
from tests.support.data import PDF
from tests.support.web import file_complaint as file_on_the_portal
from tests.support.web import make_user, post, sign_in

SIGNED_OUT = "(signed out)"
OTHER_ROLE = "trainee"  # a role an administrator added, that the table does not name
PEOPLE = [SIGNED_OUT, OTHER_ROLE, *sorted(ROLES)]


@dataclass
class Filed:
    """A complaint filed on the public form, with one document."""

    reference: str
    tracking: str  # the tracking page's path, /track/<token>
    token: str
    attachment_id: int
    task_id: str


def file_complaint(app: Flask, name: str) -> Filed:
    """File a complaint with a PDF through the public form, as a complainant would."""
    reference, tracking = file_on_the_portal(app.test_client(), [(f"{name}.pdf", PDF)],
                                             complainant_name=name)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        attachment = db.session.scalar(select(Attachment.id).where(Attachment.case_id == case.id))
        task = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    return Filed(reference, tracking, tracking.rsplit("/", 1)[1], attachment, task)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = sign_in(client, username)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return client


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """One account per role (and a trainee), a filed complaint, a client per person."""
    with app.app_context():
        for role in ROLES:
            make_user(f"only-{role}".replace("_", "-"), role)
        users.add_role(OTHER_ROLE, "Learning the ropes")
        make_user("tariq", OTHER_ROLE)
    filed = file_complaint(app, "Layla Haddad")
    clients = {SIGNED_OUT: app.test_client(), OTHER_ROLE: signed_in(app, "tariq")}
    for role in ROLES:
        clients[role] = signed_in(app, f"only-{role}".replace("_", "-"))
    return {"filed": filed, "clients": clients}


def url_values(filed: Filed) -> dict[str, Any]:
    """A value for every URL parameter the app's rules use, pointing at real records."""
    return {"reference": filed.reference, "task_id": filed.task_id, "token": filed.token,
            "attachment_id": filed.attachment_id, "message": "complainant_information",
            "action": "claim", "username": "only-handler", "version_id": 1, "draft_id": 1,
            "name": "complaint.bpmn", "kind": "holiday", "entry_id": 1, "target_id": 1,
            "lane": "Handler", "message_id": 1, "filename": "css/plaint.css",
            "incident_id": 1, "key": "fca_disp1", "extension": "xlsx",
            "list_name": "products", "code": "other", "sample_id": 1, "position": 1,
            "recipient_id": 1, "language": "ar", "subscription_id": 1, "delivery_id": 1,
            "mail_id": 1, "client_id": 1, "alert_id": 1, "rule_id": 1,
            "team_id": 1, "job_id": 1}


def expected_allowed(rule: tuple[str, ...], person: str, app: Flask) -> bool:
    """Whether the access table lets this person through the rule."""
    if rule == (access.PUBLIC,):
        return True
    if person == SIGNED_OUT or any(r.startswith(access.SCOPE_RULE) for r in rule):
        return False  # API calls: a session cookie never authenticates one
    # A record alternative ("or works_on") lets in no one here: nobody outside the table
    # has a task on the filed case, whose only task is the handler's.
    with app.app_context():
        return all(bool({person} & access.roles_with(capability))
                   for capability in rule if capability in access.TABLE)


ROUTE_REFUSAL = access.REFUSED


def refused(answer: Any) -> bool:
    """The route's refusal: its 403 (not a record's), or sign-in for the signed out.

    A 403 with another message is a record rule (a task of another role, objectivity):
    the person got through the route's rule, which is what this test checks.
    """
    if answer.status_code == 401:  # an API call without a token
        return True
    if answer.status_code == 403:
        return ROUTE_REFUSAL in answer.get_data(as_text=True)
    # Flask-Login sends the signed out to sign in and back (signing out lands there too).
    return answer.status_code == 302 and "/login?next=" in answer.headers.get("Location", "")


def violations(app: Flask, clients: dict[str, FlaskClient], values: dict[str, Any],
               skip: Callable[[str, str], bool] = lambda endpoint, method: False) -> list[str]:
    """Every (route, method, person) whose answer disagrees with the access table."""
    found: list[str] = []
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; here only access counts
    try:
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            declared = access.rule_for(app, rule.endpoint)
            if not declared:
                found.append(f"{rule.rule} ({rule.endpoint}) declares no access rule")
                continue
            with app.test_request_context():
                from flask import url_for
                url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                if skip(rule.endpoint, method):
                    continue
                for person in PEOPLE:
                    answer = clients[person].open(url, method=method)
                    allowed = expected_allowed(declared, person, app)
                    if refused(answer) == allowed or answer.status_code >= 500:
                        found.append(f"{method} {url} as {person}: {answer.status_code}, but the "
                                     f"table says {'allow' if allowed else 'refuse'} "
                                     f"({', '.join(declared)})")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    return found


# Answers that change who is signed in or what exists are asked last, on their own.
def _changes_the_world(endpoint: str, method: str) -> bool:
    return endpoint == "auth.logout" or (
        method == "POST" and endpoint.startswith(("admin.", "admin_time.", "admin_codes.",
                                                   "admin_webhooks.", "admin_api.",
                                                   "admin_security.", "admin_teams.")))


def test_every_route_answers_every_role_as_the_access_table_says(app, world) -> None:
    values = url_values(world["filed"])
    assert violations(app, world["clients"], values, skip=_changes_the_world) == []
    # Then the account and calendar changes, each person on a copy of the world that their
    # own earlier requests cannot have changed for the next (an admin's POST may succeed).
    assert violations(app, world["clients"], values,
                      skip=lambda endpoint, method: not _changes_the_world(endpoint, method)) == []


SCOPE_REFUSAL = "lacks the scope"


def test_every_api_route_answers_every_scope_as_the_access_table_says(app, world) -> None:
    """Each API route with a client of each scope alone (and all of them): in exactly when
    the route declares that scope; a route of the API that declares none fails."""
    tokens = {scope: api_token(app, f"only-{scope}", scope, acting="only-handler")
              for scope in access.SCOPES}
    tokens["all"] = api_token(app, "every-scope", *access.SCOPES, acting="only-handler")
    values = url_values(world["filed"])
    client = app.test_client()
    found, seen = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        declared = access.rule_for(app, rule.endpoint)
        scopes = {r.removeprefix(access.SCOPE_RULE) for r in declared
                  if r.startswith(access.SCOPE_RULE)}
        if not scopes and declared != (access.PUBLIC,):
            found.append(f"{rule.rule} ({rule.endpoint}) declares no scope")
            continue
        with app.test_request_context():
            from flask import url_for
            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for holder, token in tokens.items():
                seen += 1
                answer = client.open(url, method=method, headers=bearer(token))
                allowed = not scopes or holder == "all" or holder in scopes
                refused_here = answer.status_code == 403 and \
                    SCOPE_REFUSAL in answer.get_data(as_text=True)
                if refused_here == allowed or answer.status_code in (401, 500):
                    found.append(f"{method} {url} with {holder}: {answer.status_code}, "
                                 f"declared {sorted(scopes) or 'public'}")
    assert found == [] and seen > 20


def test_a_route_whose_rule_is_removed_fails_the_generated_test(app, world) -> None:
    view = app.view_functions["cases.show"].__wrapped__  # the view below its guard

    def unguarded(reference: str) -> Any:
        return view(reference)

    app.view_functions["cases.show"] = unguarded
    found = violations(app, world["clients"], url_values(world["filed"]),
                       skip=lambda endpoint, method: endpoint != "cases.show")
    assert found == ["/cases/<reference> (cases.show) declares no access rule"]

    # Declared but not enforced: the people the table refuses get in, and the test says who.
    unguarded.plaint_access = (access.READ_CASES,)  # type: ignore[attr-defined]
    found = violations(app, world["clients"], url_values(world["filed"]),
                       skip=lambda endpoint, method: endpoint != "cases.show")
    refused_by_table = [p for p in PEOPLE if not expected_allowed((access.READ_CASES,), p, app)]
    assert [line.split(" as ")[1].split(":")[0] for line in found] == refused_by_table


def test_another_handlers_task_is_refused_with_the_reason(app, world) -> None:
    filed: Filed = world["filed"]
    with app.app_context():
        make_user("omar", "handler")
    hana, omar = world["clients"]["handler"], signed_in(app, "omar")
    path = f"/cases/{filed.reference}/tasks/{filed.task_id}"
    assert post(hana, f"{path}/claim").status_code == 302
    page = omar.get(path)
    assert page.status_code == 403
    assert "is assigned to someone else. Ask a supervisor to reassign it." in \
        page.get_data(as_text=True)
    sent = post(omar, path, {"acknowledgement_channel": "email",
                             "acknowledgement_message": "Mine now."})
    assert sent.status_code == 403
    assert hana.get(path).status_code == 200  # the holder still works it


def test_a_tracking_link_opens_only_its_own_cases_documents(app, world) -> None:
    first: Filed = world["filed"]
    second = file_complaint(app, "Omar Khalil")
    visitor = app.test_client()
    own = visitor.get(f"{first.tracking}/documents/{first.attachment_id}")
    assert own.status_code == 200 and own.data == PDF
    other = visitor.get(f"{first.tracking}/documents/{second.attachment_id}")
    assert other.status_code == 404 and other.data != PDF
    assert visitor.get(f"/track/{'x' * 43}/documents/{first.attachment_id}").status_code == 404


def test_a_role_only_a_diagram_routes_to_may_work_its_tasks_and_no_others(app, world) -> None:
    filed: Filed = world["filed"]
    specialist = world["clients"]["specialist"]
    assert specialist.get("/tasks").status_code == 200  # routed to by consultation.bpmn
    refused_page = specialist.get(f"/cases/{filed.reference}/tasks/{filed.task_id}")
    assert refused_page.status_code == 403
    assert "Only people with the role &#39;Handler&#39; can work on" in \
        refused_page.get_data(as_text=True)
    # A role an administrator added, that no deployed version routes work to, gets no inbox.
    trainee = world["clients"][OTHER_ROLE]
    assert trainee.get("/tasks").status_code == 403
    assert trainee.get("/login").headers["Location"].endswith("/no-access")


_NAV = re.compile(r'<a class="nav-link" href="([^"]+)">([^<]+)</a>')
_MENU = re.compile(r'<ul class="navbar-nav[^"]*">(.*?)</ul>', re.DOTALL)


def test_every_role_lands_on_a_page_it_may_use_and_sees_the_menu_of_the_table(app, world) -> None:
    with app.test_request_context():
        from flask import url_for
        menu_urls = {item.endpoint: url_for(item.endpoint) for item in access.MENU}
    for person in [OTHER_ROLE, *sorted(ROLES)]:
        client = world["clients"][person]
        landing = client.get("/login").headers["Location"]
        page = client.get(landing)
        assert page.status_code == 200, (person, landing)
        menu = _MENU.search(page.get_data(as_text=True))
        links = [href for href, _label in _NAV.findall(menu.group(1) if menu else "")]
        with app.app_context():
            expected = [menu_urls[item.endpoint] for item in access.MENU
                        if {person} & access.roles_with(item.capability)]
        assert links == expected, person
        assert all(client.get(href).status_code == 200 for href in links), person
        assert landing == (expected[0] if expected else "/no-access"), person
    # Complaints managers read cases (the menu used to hide it from them).
    manager = world["clients"]["complaints_manager"].get("/tasks").get_data(as_text=True)
    assert ">Cases</a>" in manager and ">Record a complaint</a>" in manager
    nothing = world["clients"][OTHER_ROLE].get("/no-access").get_data(as_text=True)
    assert "holds no role that opens a page" in nothing
