"""The admin pages: accounts, roles and lane mappings, and who may open them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.errors import InvalidInput
from server.extensions import db
from server.models import LaneMapping, User
from server.services import users
from server.services.actors import Actor
from server.services.processes import deploy, read_folders

from .support.process import REPO
from .support.web import post, sign_in, submit

_SHOWN = re.compile(r'<code id="new-password">([^<]+)</code>')
ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/users/root", "/admin/roles"]
ADMIN_POSTS = ["/admin/users/new", "/admin/users/root", "/admin/users/root/password",
               "/admin/roles", "/admin/lanes", "/admin/lanes/handler/remove"]


def account(username: str) -> User | None:
    """The account as now committed (not as the test's session last saw it)."""
    db.session.rollback()
    return db.session.scalar(select(User).where(User.username == username))



def edit(client, username: str, roles: list[str], active: bool = True, **fields: str):
    values = {"display_name": username.title(), "email": "", "roles": roles, **fields}
    if active:
        values["active"] = "1"
    return submit(client, f"/admin/users/{username}", values)


def test_an_admin_creates_a_handler_whose_generated_password_is_shown_once(
        client, auth, app, app_ctx) -> None:
    auth.login("root", "admin")
    created = submit(client, "/admin/users/new", {
        "username": "Hana", "display_name": "Hana Haddad", "email": "hana@example.com",
        "roles": ["handler"], "password_mode": "generate", "password": ""})
    assert created.status_code == 302
    assert created.headers["Location"].endswith("/admin/users/hana")
    page = client.get("/admin/users/hana")
    assert page.headers["Cache-Control"] == "no-store"
    password = _SHOWN.search(page.get_data(as_text=True)).group(1)
    assert len(password) >= 12 and password not in created.headers["Location"]
    assert not _SHOWN.search(client.get("/admin/users/hana").get_data(as_text=True))

    hana = account("hana")
    assert hana.password_hash != password and password not in hana.password_hash
    assert hana.role_names == {"handler"} and hana.email == "hana@example.com"
    listing = client.get("/admin/users").get_data(as_text=True)
    row = listing.split('id="account-hana"')[1].split("</tr>")[0]
    assert "Hana Haddad" in row and "hana@example.com" in row and "handler" in row
    assert "Active" in row

    newcomer = app.test_client()
    assert sign_in(newcomer, "hana", password).status_code == 302
    assert newcomer.get("/tasks").status_code == 200


def test_a_typed_password_is_used_and_never_shown(client, auth, app, app_ctx) -> None:
    auth.login("root", "admin")
    created = submit(client, "/admin/users/new", {
        "username": "omar", "roles": ["handler", "supervisor"], "password_mode": "typed",
        "password": "a long typed password"})
    assert created.status_code == 302
    page = client.get("/admin/users/omar").get_data(as_text=True)
    assert not _SHOWN.search(page) and "a long typed password" not in page
    assert account("omar").role_names == {"handler", "supervisor"}
    assert sign_in(app.test_client(), "omar", "a long typed password").status_code == 302


def test_a_short_password_a_taken_username_and_no_roles_are_refused_keeping_the_rest(
        client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    auth.add_user("hana", "handler")
    page = submit(client, "/admin/users/new", {
        "username": "hana", "display_name": "Second Hana", "email": "second@example.com",
        "password_mode": "typed", "password": "short"})
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "There is already an account called hana." in body
    assert "Use at least 12 characters" in body
    assert "Choose at least one role." in body
    assert 'value="hana"' in body and 'value="Second Hana"' in body
    assert 'value="second@example.com"' in body and 'value="short"' not in body
    assert re.search(r'id="password-typed" value="typed" checked', body)
    assert re.search(r'id="username"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*'
                     r'username-error', body, re.S)
    assert 'id="username-error"' in body

    again = submit(client, "/admin/users/new", {
        "username": "nadia", "email": "not an address", "roles": ["supervisor"],
        "password_mode": "generate"})
    assert again.status_code == 422
    body = again.get_data(as_text=True)
    assert "Enter an e-mail address like name@example.com" in body
    assert re.search(r'value="supervisor"\s+id="role-supervisor" checked', body)
    assert not re.search(r'value="handler"\s+id="role-handler" checked', body)
    assert account("nadia") is None and account("hana").display_name == "Hana"


def test_a_user_given_the_supervisor_role_sees_the_team_view(client, auth) -> None:
    auth.login("root", "admin")
    sam = auth.signed_in("sam", "auditor")
    assert sam.get("/tasks?view=team").status_code == 403
    saved = edit(client, "sam", ["auditor", "supervisor"])
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/users")
    team = sam.get("/tasks?view=team")
    assert team.status_code == 200 and "Team" in team.get_data(as_text=True)
    row = client.get("/admin/users").get_data(as_text=True).split('id="account-sam"')[1]
    assert "supervisor" in row.split("</tr>")[0]


def test_a_switched_off_account_cannot_sign_in_and_is_signed_out(client, auth, app) -> None:
    auth.login("root", "admin")
    hana = auth.signed_in("hana", "handler")
    assert hana.get("/tasks").status_code == 200
    assert edit(client, "hana", ["handler"], active=False).status_code == 302
    assert hana.get("/tasks").status_code == 302  # the open session ends
    refused = sign_in(app.test_client(), "hana")
    assert refused.status_code == 403 and "switched off" in refused.get_data(as_text=True)
    row = client.get("/admin/users").get_data(as_text=True).split('id="account-hana"')[1]
    assert "Switched off" in row.split("</tr>")[0]
    assert edit(client, "hana", ["handler"], active=True).status_code == 302
    assert sign_in(app.test_client(), "hana").status_code == 302


def test_an_admin_cannot_switch_themselves_off_or_drop_their_own_admin_role(
        client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    auth.add_user("ada", "admin")  # not the last admin: the refusal is about oneself
    dropped = edit(client, "root", ["handler"])
    assert dropped.status_code == 422
    assert "You cannot remove your own admin role" in dropped.get_data(as_text=True)
    off = edit(client, "root", ["admin"], active=False)
    assert off.status_code == 422
    assert "You cannot switch off your own account" in off.get_data(as_text=True)
    root = account("root")
    assert root.active and root.role_names == {"admin"}
    assert client.get("/admin/users").status_code == 200


def test_the_last_active_admin_keeps_the_role(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    auth.add_user("ada", "admin")
    auth.add_user("old", "admin")
    # Another admin may be demoted or switched off while someone else still holds the role.
    assert edit(client, "ada", ["handler"]).status_code == 302
    assert edit(client, "old", ["admin"], active=False).status_code == 302
    assert account("ada").role_names == {"handler"} and not account("old").active
    # Now root is the only active admin (old still holds the role but is switched off).
    anyone = Actor.system("cli")
    with pytest.raises(InvalidInput, match="last active administrator"):
        users.update_user("root", "Root", None, ["handler"], True, by=anyone)
    with pytest.raises(InvalidInput, match="last active administrator"):
        users.update_user("root", "Root", None, ["admin"], False, by=anyone)
    root = account("root")
    assert root.active and root.has_role("admin")
    users.update_user("root", "Root", None, ["admin", "handler"], True, by=anyone)
    assert account("root").role_names == {"admin", "handler"}


def test_a_new_generated_password_replaces_the_old_one_and_is_shown_once(client, auth, app) -> None:
    auth.login("root", "admin")
    auth.add_user("hana", "handler")
    reset = post(client, "/admin/users/hana/password")
    assert reset.status_code == 302 and reset.headers["Location"].endswith("/admin/users/hana")
    password = _SHOWN.search(client.get("/admin/users/hana").get_data(as_text=True)).group(1)
    assert not _SHOWN.search(client.get("/admin/users/hana").get_data(as_text=True))
    assert sign_in(app.test_client(), "hana").status_code == 422  # the old one is gone
    assert sign_in(app.test_client(), "hana", password).status_code == 302


def _renamed_lane_bundle() -> dict[str, bytes]:
    files = read_folders(REPO / "workflows", REPO / "forms")
    files["complaint.bpmn"] = files["complaint.bpmn"].replace(
        b'name="Handler"', b'name="Complaints Officer"')
    return files


def test_a_lane_mapping_lets_a_diagram_with_another_lane_name_deploy(client, auth, app_ctx) -> None:
    files = _renamed_lane_bundle()
    # Unmapped, the lane deploys (issue 16): its tasks go to the default role, with a warning.
    warned: list = []
    first = deploy(files, Actor.system("test"), warnings=warned)
    assert first.role_map["Complaints Officer"] == first.role_map["*"]
    assert any("Complaints Officer" in str(w) and "roles page" in str(w) for w in warned)

    auth.login("root", "admin")
    added = post(client, "/admin/lanes", {"lane": "Complaints Officer", "role": "handler"})
    assert added.status_code == 302
    page = client.get("/admin/roles").get_data(as_text=True)
    assert "<code>complaints_officer</code>" in page
    db.session.rollback()
    assert db.session.get(LaneMapping, "complaints_officer").role_name == "handler"
    version = deploy(files, Actor.system("test"))
    assert version.role_map["Complaints Officer"] == "handler"

    twice = post(client, "/admin/lanes", {"lane": "complaints officer", "role": "supervisor"})
    assert twice.status_code == 422
    assert "already goes to handler" in twice.get_data(as_text=True)

    removed = post(client, "/admin/lanes/complaints_officer/remove")
    assert removed.status_code == 302
    assert "<code>complaints_officer</code>" not in client.get("/admin/roles").get_data(
        as_text=True)
    again: list = []
    deploy(files, Actor.system("test"), warnings=again)
    assert any("Complaints Officer" in str(w) for w in again)


def test_a_role_added_on_the_roles_page_takes_lanes_of_its_name(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    bad = post(client, "/admin/roles", {"name": "Complaints Officer", "description": "x"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Use lowercase letters and digits" in body and 'value="Complaints Officer"' in body
    taken = post(client, "/admin/roles", {"name": "handler"})
    assert taken.status_code == 422
    assert "There is already a role called handler." in taken.get_data(as_text=True)
    added = post(client, "/admin/roles", {"name": "complaints_officer",
                                          "description": "Front-line complaints staff"})
    assert added.status_code == 302
    page = client.get("/admin/roles").get_data(as_text=True)
    assert "Front-line complaints staff" in page
    assert 'value="complaints_officer"' in client.get("/admin/users/new").get_data(as_text=True)
    version = deploy(_renamed_lane_bundle(), Actor.system("test"))
    assert version.role_map["Complaints Officer"] == "complaints_officer"


@pytest.mark.parametrize("role", ["handler", "supervisor", "auditor", "process_owner"])
def test_other_roles_are_refused_every_admin_page(client, auth, app_ctx, role: str) -> None:
    auth.add_user("root", "admin")
    auth.login("someone", role)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    for path in ADMIN_POSTS:
        assert post(client, path, {"username": "x", "roles": ["admin"], "name": "x",
                                   "lane": "x", "role": "admin"}).status_code == 403, path
    assert account("someone").role_names == {role}
    assert account("x") is None and account("root").check_password("correct horse battery")


def test_signed_out_visitors_are_sent_to_sign_in(client, auth, app_ctx) -> None:
    auth.add_user("root", "admin")
    for path in ADMIN_PAGES:
        page = client.get(path)
        assert page.status_code == 302 and "/login" in page.headers["Location"], path
    for path in ADMIN_POSTS:
        page = post(client, path, {"username": "x", "roles": ["admin"]})
        assert page.status_code == 302 and "/login" in page.headers["Location"], path
    assert account("x") is None


def test_every_admin_page_shows_the_tabs_of_every_admin_area(auth) -> None:
    ada = auth.signed_in("ada", "admin")
    tabs = ("/admin/users", "/admin/roles", "/admin/sso", "/admin/calendar",
            "/admin/escalation", "/admin/codes/", "/admin/outbox", "/admin/webhooks/",
            "/admin/api-clients", "/admin/security", "/admin/retention", "/admin/teams")
    for page in ("/admin/users", "/admin/security", "/admin/teams"):
        text = ada.get(page).get_data(as_text=True)
        assert all(f'href="{tab}"' in text for tab in tabs), page
