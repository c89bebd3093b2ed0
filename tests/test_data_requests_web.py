"""Data-subject requests through the pages: a privacy officer records one (a mistake comes
back with what they typed), sees what Plaint holds about the person and downloads the copy;
people without the capability are turned away."""

from __future__ import annotations

import io
import json
import zipfile

from flask import Flask
from flask.testing import FlaskClient

from .support.cases import file_case
from .support.web import AuthActions, post, submit

LAYLA = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com"}


def test_a_privacy_officer_records_a_request_and_downloads_the_persons_data(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    with app.app_context():
        own, _ = file_case(**LAYLA)
        other, _ = file_case(complainant_name="Karim Nassar",
                             complainant_email="karim@example.org")
    auth.login("pia", "privacy_officer")
    assert "Data requests" in client.get("/data-requests").get_data(as_text=True)

    wrong = submit(client, "/data-requests/new", {
        "name": "Layla Haddad", "email": "layla-at-example", "phone": "",
        "request_kind": "access", "identity_check": ""})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert "Enter an e-mail address such as name@example.com." in page
    assert 'value="layla-at-example"' in page and 'value="Layla Haddad"' in page

    done = submit(client, "/data-requests/new", {
        "name": "Layla Haddad", "email": "layla@example.com", "phone": "",
        "request_kind": "access", "identity_check": "ID seen at the branch"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"])
    page = shown.get_data(as_text=True)
    assert own in page and other not in page
    assert "Verify the requester&#39;s identity" in page  # its first task

    reference = done.headers["Location"].rsplit("/", 1)[1]
    got = post(client, f"/data-requests/{reference}/export")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert "attachment" in got.headers["Content-Disposition"]
    data = json.loads(zipfile.ZipFile(io.BytesIO(got.data)).read("export.json"))
    assert [c["reference"] for c in data["cases"]] == [own]
    # The request's own case page is its request page.
    assert client.get(f"/cases/{reference}").headers["Location"].endswith(
        f"/data-requests/{reference}")


def test_people_without_the_capability_cannot_see_requests(
        client: FlaskClient, auth: AuthActions) -> None:
    auth.login("hana", "handler")
    assert client.get("/data-requests").status_code == 403
    assert client.get("/data-requests/new").status_code == 403


def test_the_privacy_officer_works_the_request_from_the_inbox(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("pia", "privacy_officer")
    done = submit(client, "/data-requests/new", {
        "name": "Layla Haddad", "email": "layla@example.com", "phone": "050 111 2222",
        "request_kind": "erasure", "identity_check": "A code sent to her address"})
    reference = done.headers["Location"].rsplit("/", 1)[1]
    inbox = client.get("/tasks").get_data(as_text=True)
    assert reference in inbox and "Verify the requester&#39;s identity" in inbox
    page = client.get(f"/data-requests/{reference}").get_data(as_text=True)
    task_path = page.split(f'href="/cases/{reference}/tasks/', 1)[1].split('"', 1)[0]
    path = f"/cases/{reference}/tasks/{task_path}"
    task = client.get(path)
    assert task.status_code == 200, (path, task.get_data(as_text=True)[-1500:])
    assert "How you checked" in task.get_data(as_text=True)
    sent = submit(client, path, {"identity": "confirmed", "identity_note": "Code matched."})
    assert sent.status_code == 302
    page = client.get(f"/data-requests/{reference}").get_data(as_text=True)
    assert "Decide and carry out the request" in page


def test_the_escalation_page_shows_the_statutory_deadline_to_change(
        client: FlaskClient, auth: AuthActions) -> None:
    auth.login("ada", "admin")
    page = client.get("/admin/escalation").get_data(as_text=True)
    assert "Data-subject request" in page
    assert 'value="30"' in page  # PDPL: 30 calendar days, as seeded
