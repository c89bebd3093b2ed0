"""Filing complaints and following them over the API, with an API client's token."""

from __future__ import annotations

import io
import json

from flask import Flask
from flask.testing import FlaskClient

from tests.support.api import api_token, bearer
from tests.support.data import PDF

FIELDS = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
          "description": "I was charged twice for one transfer.", "consent": True}


def test_an_intake_client_files_a_complaint_with_a_document_and_gets_the_reference(
        app: Flask, client: FlaskClient) -> None:
    token = api_token(app, "crm", "intake", "read")
    sent = client.post("/api/v1/complaints", headers=bearer(token), data={
        "fields": json.dumps(FIELDS),
        "documents": (io.BytesIO(PDF), "statement.pdf")}, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    body = sent.get_json()
    assert body["reference"].startswith("CMP-")
    assert [d["filename"] for d in body["documents"]] == ["statement.pdf"]
    assert "/track/" in body["tracking_url"]
    # The case is there, filed by the client, with the document in its history.
    history = client.get(f"/api/v1/cases/{body['reference']}/history", headers=bearer(token))
    entries = history.get_json()["items"]
    assert entries[0]["actor"] == "api:crm" and entries[0]["kind"] == "case.received"
    assert any(e["kind"] == "attachment.added" and e["actor"] == "api:crm" for e in entries)
    # The complainant's status by the tracking token, as the tracking page shows it.
    tracked = client.get(f"/api/v1/tracking/{body['tracking_token']}", headers=bearer(token))
    assert tracked.status_code == 200 and tracked.get_json()["reference"] == body["reference"]


def test_invalid_intake_answers_a_problem_with_errors_per_field(app, client) -> None:
    token = api_token(app, "crm", "intake")
    sent = client.post("/api/v1/complaints", headers=bearer(token),
                       json={"fields": {**FIELDS, "complainant_email": "not an address",
                                        "description": ""}})
    assert sent.status_code == 422
    assert sent.content_type == "application/problem+json"
    problem = sent.get_json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    assert "complainant_email" in problem["errors"]
