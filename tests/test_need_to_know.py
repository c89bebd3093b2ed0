"""Need-to-know: a handler of team A cannot see, search, report on or fetch by API a case of
team B or a confidential case; the attempt is refused (and the refusal signalled); the
people named on a confidential case and the complaints manager can."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    Case,
    CaseEvent,
    HumanTask,
    SystemEvent,
    User,
    WebhookDelivery,
)
from server.services import cases, confidential, teams, webhooks
from server.services.actors import Actor
from server.signals import case_read_refused

from .support.api import api_token, bearer
from .support.cases import complete, file_case
from .support.data import ACK, ASSESS, INVESTIGATE
from .support.web import AuthActions, make_user, post

SYSTEM = Actor.system("test")
MANAGER = Actor("cara", None, frozenset({"complaints_manager"}))
REFUSED = "You do not have access to this case."


@dataclass
class World:
    """Two teams, a case of each (routed by category) and a confidential case of team B."""

    a: str  # a case of team A
    b: str  # a case of team B
    secret: str  # a confidential case of team B, readable by omar
    team_a: int
    team_b: int


def _assessed(category: str, name: str) -> str:
    reference, _token = file_case(complainant_name=name)
    complete(reference, "acknowledge", ACK, SYSTEM)
    complete(reference, "assess", {**ASSESS, "category": category}, SYSTEM)
    return reference


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        for username, role in (("anna", "handler"), ("bilal", "handler"), ("omar", "handler"),
                               ("sami", "supervisor"), ("cara", "complaints_manager"),
                               ("aud", "auditor"), ("ada", "admin")):
            make_user(username, role)
        team_a = teams.create("Team A", ["anna", "sami"], SYSTEM).id
        team_b = teams.create("Team B", ["bilal"], SYSTEM).id
        teams.set_routes({"delay": str(team_a), "billing": str(team_b)}, SYSTEM)
        a = _assessed("delay", "Alia Alpha")
        b = _assessed("billing", "Basil Beta")
        secret = _assessed("billing", "Salma Secret")
        confidential.mark(secret, "A complaint about a member of staff.", ["omar"], MANAGER)
        return World(a, b, secret, team_a, team_b)


@contextmanager
def refusals() -> Iterator[list[dict[str, Any]]]:
    """The `case_read_refused` signals sent meanwhile."""
    sent: list[dict[str, Any]] = []

    def heard(_sender: Any, **kwargs: Any) -> None:
        sent.append(kwargs)

    with case_read_refused.connected_to(heard):
        yield sent


def links(page: str, *references: str) -> set[str]:
    """Which of the cases the page links to (a case page, or a task of it)."""
    return {reference for reference in references if f"/cases/{reference}" in page}


def _page(client: FlaskClient, path: str) -> tuple[int, str]:
    answer = client.get(path)
    return answer.status_code, answer.get_data(as_text=True)


def test_the_routing_table_gives_each_case_its_team_shown_on_the_case_page(
        app: Flask, world: World, auth: AuthActions) -> None:
    with app.app_context():
        team_of = dict(db.session.execute(select(Case.reference, Case.team_id)).all())
    assert team_of[world.a] == world.team_a and team_of[world.b] == world.team_b
    status, page = _page(auth.signed_in("bilal"), f"/cases/{world.b}")
    assert status == 200 and "Team B" in page


def test_a_handler_of_team_a_is_refused_a_case_of_team_b_and_everything_under_it(
        world: World, auth: AuthActions) -> None:
    anna = auth.signed_in("anna")
    assert _page(anna, f"/cases/{world.a}")[0] == 200
    with refusals() as sent:
        for path in (f"/cases/{world.b}", f"/cases/{world.b}/letter",
                     f"/cases/{world.b}/letter.pdf", f"/cases/{world.secret}"):
            status, page = _page(anna, path)
            assert status == 403, path
            assert REFUSED in page and "Basil Beta" not in page and "Salma" not in page
        assert post(anna, f"/cases/{world.b}/bundle.zip").status_code == 403
        assert post(anna, f"/cases/{world.b}/notes", {"note": "x"}).status_code == 403
    assert [(s["what"], s["actor"].name) for s in sent[:2]] == [("case", "anna"),
                                                               ("letter", "anna")]
    assert {s["what"] for s in sent} >= {"case", "letter", "bundle"}


def test_the_task_page_of_a_case_one_may_not_read_is_refused_before_anything_shows_or_runs(
        app: Flask, world: World, auth: AuthActions) -> None:
    with app.app_context():
        task_of = dict(db.session.execute(select(Case.reference, HumanTask.task_id)
                                          .join(HumanTask, HumanTask.case_id == Case.id)).all())
    anna, ada = auth.signed_in("anna"), auth.signed_in("ada")
    with refusals() as sent:
        for reference in (world.b, world.secret):
            path = f"/cases/{reference}/tasks/{task_of[reference]}"
            for answer in (anna.get(path), post(anna, path, {"findings": "Seen."})):
                page = answer.get_data(as_text=True)
                assert answer.status_code == 403, path
                assert REFUSED in page and "Basil Beta" not in page and "Salma" not in page
        # A task that is not open, of a case one may not read: refused all the same.
        assert _page(anna, f"/cases/{world.b}/tasks/no-such-task")[0] == 403
        # Someone whose roles do not open task pages is refused the case all the same.
        assert _page(ada, f"/cases/{world.b}/tasks/{task_of[world.b]}")[0] == 403
    assert [(s["actor"].name, s["what"], s["detail"]) for s in sent] == [
        ("anna", "task", task_of[world.b])] * 2 + [("anna", "task", task_of[world.secret])] * 2 \
        + [("anna", "task", "no-such-task"), ("ada", "task", task_of[world.b])]
    with app.app_context():
        refused_case = db.session.scalar(select(Case.id).where(Case.reference == world.b))
    assert sent[0]["case_id"] == refused_case
    assert _page(anna, "/cases/CMP-2099-999999/tasks/x")[0] == 404
    for who, reference in (("anna", world.a), ("bilal", world.b), ("omar", world.secret)):
        status, page = _page(auth.signed_in(who), f"/cases/{reference}/tasks/{task_of[reference]}")
        assert status == 200 and 'name="findings"' in page, (who, reference)
    with app.app_context():  # the refused posts completed nothing
        assert dict(db.session.execute(select(Case.reference, HumanTask.task_id)
                                       .join(HumanTask, HumanTask.case_id == Case.id)).all()) \
            == task_of


def test_search_and_its_exports_hold_only_the_cases_one_may_read(
        world: World, auth: AuthActions) -> None:
    every = (world.a, world.b, world.secret)
    anna = auth.signed_in("anna")
    status, page = _page(anna, "/cases")
    assert status == 200 and links(page, *every) == {world.a}
    # Typing another team's reference finds nothing rather than opening it.
    status, page = _page(anna, f"/cases?q={world.b}")
    assert status == 200 and links(page, *every) == set()
    exported = post(anna, "/cases/export.csv").get_data(as_text=True)
    assert world.a in exported and world.b not in exported and world.secret not in exported
    # Team B's handler finds theirs, filtered by team; not the confidential one.
    page = _page(auth.signed_in("bilal"), f"/cases?team={world.team_b}")[1]
    assert links(page, *every) == {world.b}
    page = _page(auth.signed_in("cara"), "/cases")[1]
    assert links(page, *every) == set(every)


def test_a_team_filter_that_is_no_team_says_what_to_fix(world: World,
                                                        auth: AuthActions) -> None:
    status, page = _page(auth.signed_in("cara"), "/cases?team=999")
    assert status == 400 and "Choose a team from the list." in page


def test_the_inbox_lists_only_the_tasks_of_cases_one_may_read(
        world: World, auth: AuthActions) -> None:
    every = (world.a, world.b, world.secret)
    page = _page(auth.signed_in("anna"), "/tasks?view=unclaimed")[1]
    assert links(page, *every) == {world.a}
    page = _page(auth.signed_in("bilal"), "/tasks?view=unclaimed")[1]
    assert links(page, *every) == {world.b}
    page = _page(auth.signed_in("sami"), "/tasks?view=team")[1]
    assert links(page, *every) == {world.a}


def test_a_supervisors_report_covers_their_teams_and_the_managers_every_case(
        world: World, auth: AuthActions) -> None:
    every = (world.a, world.b, world.secret)
    path = "/reports/cases?scope=open"
    assert links(_page(auth.signed_in("sami"), path)[1], *every) == {world.a}
    assert links(_page(auth.signed_in("cara"), path)[1], *every) == set(every)
    exported = auth.signed_in("sami").get("/reports/cases.csv?scope=open").get_data(
        as_text=True)
    assert world.a in exported and world.b not in exported


def test_the_api_reads_as_the_acting_user_and_refuses_other_teams_cases(
        app: Flask, world: World, client: FlaskClient) -> None:
    anna = api_token(app, "anna-app", "read", "work", acting="anna")
    listed = client.get("/api/v1/cases", headers=bearer(anna)).get_json()
    references = {item["reference"] for item in listed["items"]}
    assert world.a in references and not references & {world.b, world.secret}
    with refusals() as sent:
        for path in (f"/api/v1/cases/{world.b}", f"/api/v1/cases/{world.b}/history",
                     f"/api/v1/cases/{world.secret}"):
            answer = client.get(path, headers=bearer(anna))
            assert answer.status_code == 403, path
            assert "Basil" not in answer.get_data(as_text=True)
    assert len(sent) == 3 and {s["case_id"] for s in sent} and sent[0]["what"] == "api"
    feed = client.get("/api/v1/events", headers=bearer(anna)).get_json()["items"]
    seen = {event["data"]["reference"] for event in feed}
    assert world.a in seen and not seen & {world.b, world.secret}
    omar = api_token(app, "omar-app", "read", acting="omar")
    assert client.get(f"/api/v1/cases/{world.secret}", headers=bearer(omar)).status_code == 200


def test_only_the_named_the_manager_and_auditors_read_a_confidential_case(
        app: Flask, world: World, auth: AuthActions) -> None:
    for username, status in (("omar", 200), ("cara", 200), ("aud", 200), ("bilal", 403),
                             ("sami", 403)):
        assert _page(auth.signed_in(username), f"/cases/{world.secret}")[0] == status, username
    page = _page(auth.signed_in("omar"), f"/cases/{world.secret}")[1]
    assert "Confidential" in page and "A complaint about a member of staff." in page
    with app.app_context():
        kinds = db.session.scalars(select(CaseEvent.kind).join(Case).where(
            Case.reference == world.secret)).all()
    assert "case.confidential" in kinds


def test_a_supervisor_marks_a_case_confidential_with_a_reason_and_lifts_it(
        world: World, auth: AuthActions) -> None:
    sami = auth.signed_in("sami")
    refused = post(sami, f"/cases/{world.a}/confidential",
                   {"confidential_reason": "", "confidential_people": ["omar"]})
    assert refused.status_code == 422
    assert "Say why the case is confidential" in refused.get_data(as_text=True)
    done = post(sami, f"/cases/{world.a}/confidential",
                {"confidential_reason": "A VIP customer.", "confidential_people": ["omar"]})
    assert done.status_code == 302
    anna = auth.signed_in("anna")
    assert _page(anna, f"/cases/{world.a}")[0] == 403  # team A, but not named
    assert _page(sami, f"/cases/{world.a}")[0] == 200  # who marked it stays named
    assert _page(auth.signed_in("omar"), f"/cases/{world.a}")[0] == 200
    lifted = post(sami, f"/cases/{world.a}/confidential/lift",
                  {"confidential_reason": "No longer needed."})
    assert lifted.status_code == 302
    assert _page(anna, f"/cases/{world.a}")[0] == 200
    # A handler may not mark cases confidential.
    assert post(anna, f"/cases/{world.a}/confidential",
                {"confidential_reason": "x"}).status_code == 403


def test_an_admin_makes_a_team_and_its_members_in_the_chained_system_log(
        app: Flask, auth: AuthActions) -> None:
    admin = auth.signed_in("root", "admin")
    auth.add_user("hala", "handler")
    made = post(admin, "/admin/teams", {"name": "Jeddah branch", "members": ["hala"]})
    assert made.status_code == 302
    page = _page(admin, "/admin/teams")[1]
    assert "Jeddah branch" in page and "Hala" in page
    again = post(admin, "/admin/teams", {"name": "jeddah  branch"})
    assert again.status_code == 422 and "There is a team called" in again.get_data(as_text=True)
    with app.app_context():
        logged = db.session.scalars(select(SystemEvent.kind)).all()
    assert "team.created" in logged


def test_without_teams_every_case_reader_reads_every_case_as_before(
        app: Flask, auth: AuthActions) -> None:
    with app.app_context():
        reference, _token = file_case()
    for username, role in (("hana", "handler"), ("sara", "supervisor")):
        client = auth.signed_in(username, role)
        assert _page(client, f"/cases/{reference}")[0] == 200
        assert links(_page(client, "/cases")[1], reference) == {reference}


def test_who_worked_on_a_case_before_it_went_to_another_team_still_reads_it(
        app: Flask, world: World, auth: AuthActions) -> None:
    with app.app_context():
        anna_id = db.session.scalar(select(User.id).where(User.username == "anna"))
        reference, _token = file_case(complainant_name="Walid Worked")
        complete(reference, "acknowledge", ACK, Actor("anna", anna_id, frozenset({"handler"})))
        complete(reference, "assess", {**ASSESS, "category": "billing"}, SYSTEM)
        assert cases.get_case(reference).team_id == world.team_b
    assert _page(auth.signed_in("anna"), f"/cases/{reference}")[0] == 200
    assert _page(auth.signed_in("bilal"), f"/cases/{reference}")[0] == 200
    assert _page(auth.signed_in("sami"), f"/cases/{reference}")[0] == 403


def test_a_diagrams_team_variable_names_the_team(app: Flask, world: World) -> None:
    with app.app_context():
        assert teams.projected(None, {"team": "Team B"}, "delay") == world.team_b
        assert teams.projected(world.team_a, {"team": "No such team"}, None) == world.team_a
        assert teams.projected(None, {}, "delay") == world.team_a
        assert teams.projected(world.team_b, {}, "delay") == world.team_b


def test_the_api_refuses_work_on_another_teams_case(app: Flask, world: World,
                                                    client: FlaskClient) -> None:
    anna = api_token(app, "anna-worker", "work", acting="anna")
    with app.app_context():
        task_id = db.session.scalar(select(HumanTask.task_id).join(Case).where(
            Case.reference == world.b))
    with refusals() as sent:
        answer = client.post(f"/api/v1/cases/{world.b}/tasks/{task_id}/claim",
                             headers=bearer(anna))
    assert answer.status_code == 403 and sent and sent[0]["what"] == "task"
    with app.app_context():
        assert db.session.scalar(select(HumanTask.assignee_id).where(
            HumanTask.task_id == task_id)) is None


def test_related_complaints_show_only_the_cases_one_may_read(world: World,
                                                             auth: AuthActions) -> None:
    # The three cases share the complainant's e-mail, so each relates to the others.
    others = (world.b, world.secret)
    assert links(_page(auth.signed_in("anna"), f"/cases/{world.a}")[1], *others) == set()
    assert links(_page(auth.signed_in("cara"), f"/cases/{world.a}")[1], *others) == set(others)


def test_refused_reads_by_web_and_api_are_in_the_access_log_auditors_read(
        app: Flask, world: World, client: FlaskClient, auth: AuthActions) -> None:
    anna = auth.signed_in("anna")
    assert _page(anna, f"/cases/{world.b}")[0] == 403
    assert _page(anna, f"/cases/{world.secret}")[0] == 403
    token = api_token(app, "anna-app", "read", acting="anna")
    assert client.get(f"/api/v1/cases/{world.b}", headers=bearer(token)).status_code == 403
    assert _page(anna, f"/cases/{world.a}")[0] == 200
    with app.app_context():
        logged = db.session.execute(
            select(AccessLogEntry.actor, AccessLogEntry.reference, AccessLogEntry.what,
                   AccessLogEntry.allowed).order_by(AccessLogEntry.id)).all()
    assert [tuple(row) for row in logged] == [
        ("anna", world.b, "case", False), ("anna", world.secret, "case", False),
        ("api:anna-app", world.b, "api", False), ("anna", world.a, "case", True)]
    status, page = _page(auth.signed_in("aud"), "/audit/access?refused=1&person=anna")
    assert status == 200 and world.b in page and world.secret in page
    assert world.a not in page  # the allowed read is not among the refused ones


def test_an_api_clients_webhooks_carry_only_the_cases_its_acting_user_may_read(
        app: Flask, world: World, client: FlaskClient) -> None:
    anna = api_token(app, "anna-hooks", "webhooks", acting="anna")
    made = client.post("/api/v1/webhooks", headers=bearer(anna), json={
        "name": "Team A's CRM", "url": "https://crm.example.com/hooks",
        "event_types": ["task.completed"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    ada = Actor("ada", None, frozenset({"admin"}))
    with app.app_context():
        every = webhooks.create(webhooks.clean({
            "name": "Archive", "url": "https://archive.example.com/hooks",
            "event_types": ["task.completed"], "active": "on"}), ada)[0].id
        for reference in (world.a, world.b, world.secret):
            complete(reference, "investigate", INVESTIGATE, SYSTEM)
        by_subscription = {
            subscription: {reference for reference, in db.session.execute(
                select(Case.reference).join(WebhookDelivery, WebhookDelivery.case_id == Case.id)
                .where(WebhookDelivery.subscription_id == subscription))}
            for subscription in (made.get_json()["id"], every)}
    assert by_subscription == {made.get_json()["id"]: {world.a},
                               every: {world.a, world.b, world.secret}}
