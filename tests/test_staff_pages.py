"""Staff pages through the test client: sign-in, inbox, case pages, who may see what."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask
from server.services import cases

from .support.data import HANDLER, INTAKE
from .support.web import post, sign_in, token


def case_and_task() -> tuple[str, str]:
    """A new complaint's reference and the id of its first task."""
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    return case.reference, db.session.scalar(select(HumanTask.task_id).where(
        HumanTask.case_id == case.id))


def test_signing_in_and_out(client, auth) -> None:
    auth.add_user("hana", "handler")
    page = sign_in(client, "hana")
    assert page.status_code == 302 and page.headers["Location"].endswith("/tasks")
    assert "Inbox" in client.get("/tasks").get_data(as_text=True)
    out = post(client, "/logout")
    assert out.status_code == 302
    assert client.get("/tasks").status_code == 302  # back to sign-in


def test_a_wrong_password_is_refused_and_keeps_the_username(client, auth) -> None:
    auth.add_user("hana", "handler")
    page = sign_in(client, "hana", "wrong password!")
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "The username or password is not right." in body
    assert 'value="hana"' in body and "wrong password" not in body


def test_sign_in_is_throttled_after_repeated_failures(client, auth) -> None:
    auth.add_user("hana", "handler")
    for _ in range(5):
        assert sign_in(client, "hana", "wrong password!").status_code == 422
    blocked = sign_in(client, "hana")  # even the right password, for now
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)


def test_sign_in_without_a_csrf_token_is_refused(client, auth) -> None:
    auth.add_user("hana", "handler")
    page = client.post("/login", data={"username": "hana", "password": "x"})
    assert page.status_code == 400 and "Traceback" not in page.get_data(as_text=True)


def test_sign_in_never_redirects_off_site(client, auth) -> None:
    auth.add_user("hana", "handler")
    page = client.post("/login?next=//evil.example/x", data={
        "username": "hana", "password": "correct horse battery", "csrf_token": token(client)})
    assert page.headers["Location"].endswith("/tasks")


def test_the_inbox_lists_unclaimed_tasks_of_my_role_and_lets_me_claim(
        client, auth, app_ctx) -> None:
    # Thursday 13:00 in Riyadh: acknowledging is due on Sunday, well over a day away, so
    # the badge reads "On time" whatever the hour the suite runs.
    with time_machine.travel(datetime(2026, 5, 7, 10, 0, tzinfo=UTC), tick=False):
        auth.login("hana", "handler")
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        assert "Nothing here." in client.get("/tasks?view=mine").get_data(as_text=True)
        page = client.get("/tasks?view=unclaimed").get_data(as_text=True)
        assert case.reference in page and "Acknowledge complaint" in page and "On time" in page
        task_id = db.session.scalar(select(HumanTask.task_id))
        claimed = post(client, f"/cases/{case.reference}/tasks/{task_id}/claim",
                       {"back": "/tasks?view=mine"})
        assert claimed.headers["Location"].endswith("/tasks?view=mine")
        assert case.reference in client.get("/tasks?view=mine").get_data(as_text=True)
        history = client.get(f"/cases/{case.reference}").get_data(as_text=True)
        assert "Acknowledge complaint taken by hana" in history


def test_a_task_claimed_by_someone_else_cannot_be_claimed_again(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    auth.add_user("omar", "handler")
    reference, task_id = case_and_task()
    post(client, f"/cases/{reference}/tasks/{task_id}/claim")
    other = auth.signed_in("omar")
    page = post(other, f"/cases/{reference}/tasks/{task_id}/claim", follow_redirects=True)
    assert "was taken by someone else" in page.get_data(as_text=True)


def test_supervisors_see_the_whole_team_and_handlers_do_not_see_supervisor_tasks(
        client, auth, app_ctx) -> None:
    auth.login("sara", "supervisor")
    auth.add_user("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    assert case.reference in client.get("/tasks?view=team").get_data(as_text=True)
    auth.logout()
    auth.login("hana")
    assert case.reference in client.get("/tasks?view=team").get_data(as_text=True)


def test_a_supervisor_reassigns_a_task_and_it_is_logged(client, auth, app_ctx) -> None:
    auth.login("sara", "supervisor", "handler")
    auth.add_user("hana", "handler")
    auth.add_user("pat", "process_owner")
    reference, task_id = case_and_task()
    page = client.get(f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
    assert "Give this task to" in page and "(hana)" in page and "(pat)" not in page
    post(client, f"/cases/{reference}/tasks/{task_id}/reassign", {"username": "hana"})
    assert db.session.scalar(select(HumanTask.assignee_id)) is not None
    wrong = post(client, f"/cases/{reference}/tasks/{task_id}/reassign",
                 {"username": "pat"}, follow_redirects=True)
    assert "does not hold the role" in wrong.get_data(as_text=True)
    history = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "reassigned to hana by sara" in history


def test_handlers_cannot_reassign(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    auth.add_user("omar", "handler")
    reference, task_id = case_and_task()
    assert "Give this task to" not in client.get(
        f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
    page = post(client, f"/cases/{reference}/tasks/{task_id}/reassign",
                {"username": "omar"}, follow_redirects=True)
    assert "Only supervisors can reassign tasks." in page.get_data(as_text=True)
    assert db.session.scalar(select(HumanTask.assignee_id)) is None


def test_roles_without_case_access_are_refused(client, auth, app_ctx) -> None:
    auth.login("pat", "process_owner")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    for path in ("/tasks", "/cases", f"/cases/{case.reference}"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "Traceback" not in page.get_data(as_text=True)


def test_auditors_read_cases_but_cannot_change_them(client, auth, app_ctx) -> None:
    auth.login("adel", "auditor")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Layla Haddad" in page and "Add an internal note" not in page
    assert post(client, f"/cases/{case.reference}/notes", {"note": "x"}).status_code == 403
    assert client.get("/tasks").status_code == 403


def test_case_search_by_reference_name_email_and_words(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    for query in (case.reference, "layla", "layla@example.com", "charged twice"):
        assert case.reference in client.get("/cases", query_string={"q": query}) \
            .get_data(as_text=True), query
    assert "No cases found." in client.get("/cases?q=nobody-like-this").get_data(as_text=True)


def test_an_internal_note_joins_the_history_and_an_empty_one_is_refused(
        client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    empty = post(client, f"/cases/{case.reference}/notes", {"note": "   "})
    assert empty.status_code == 422 and "Write the note first." in empty.get_data(as_text=True)
    post(client, f"/cases/{case.reference}/notes", {"note": "Called <b>back</b>."})
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Called &lt;b&gt;back&lt;/b&gt;." in page


def test_an_unknown_case_is_a_clean_404(client, auth) -> None:
    auth.login("hana", "handler")
    page = client.get("/cases/CMP-1999-999999")
    assert page.status_code == 404 and "There is no case" in page.get_data(as_text=True)


def test_htmx_asks_for_the_inbox_rows_alone(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
    whole = client.get("/tasks?view=unclaimed").get_data(as_text=True)
    rows = client.get("/tasks?view=unclaimed", headers={"HX-Request": "true"})
    body = rows.get_data(as_text=True)
    assert "<html" in whole and "<html" not in body
    assert 'id="inbox-results"' in body
    assert reference in body and "HX-Request" in rows.headers["Vary"]
    restore = client.get("/tasks", headers={"HX-Request": "true",
                                            "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)
