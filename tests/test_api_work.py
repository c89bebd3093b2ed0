"""Task work over the API as a client's acting user, and the refusals a client can meet."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import Case, SystemEvent
from server.services import api_clients
from tests.support.api import ADMIN, api_token, bearer
from tests.support.cases import CHOSEN, fill

FIELDS = {"complainant_name": "Omar Khalil", "complainant_email": "omar@example.com",
          "description": "My card was blocked without notice.", "consent": True}


def _file(client: FlaskClient, token: str, **headers: str) -> dict:
    sent = client.post("/api/v1/complaints", headers=bearer(token, **headers),
                       json={"fields": FIELDS})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    return sent.get_json()


def _first_task(client: FlaskClient, token: str, reference: str) -> dict:
    listed = client.get("/api/v1/tasks?view=unclaimed", headers=bearer(token))
    assert listed.status_code == 200, listed.get_data(as_text=True)
    return next(t for t in listed.get_json()["items"] if t["reference"] == reference)


def test_a_work_client_claims_and_completes_the_first_task_as_its_acting_user(
        app: Flask, client: FlaskClient, backend: str) -> None:
    intake = api_token(app, "portal", "intake")
    work = api_token(app, "crm", "work", "read", acting="hana")
    reference = _file(client, intake)["reference"]
    task = _first_task(client, work, reference)
    path = f"/api/v1/cases/{reference}/tasks/{task['task_id']}"
    claimed = client.post(f"{path}/claim", headers=bearer(work, **{
        "If-Match": f'"{task["case_version"]}"'}))
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    version = claimed.get_json()["version"]
    assert client.get(f"/api/v1/cases/{reference}", headers=bearer(work)).headers["ETag"] == \
        f'"{version}"'
    done = client.post(f"{path}/complete", headers=bearer(work, **{"If-Match": str(version)}),
                       json={"values": fill(task["form"], CHOSEN)})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert task["task_id"] not in [t["task_id"] for t in done.get_json()["tasks"]]
    history = client.get(f"/api/v1/cases/{reference}/history", headers=bearer(work)).get_json()
    completed = [e for e in history["items"] if e["kind"] == "task.completed"]
    assert completed[-1]["actor"] == "api:crm"
    assert completed[-1]["data"]["on_behalf"] == "hana"


def test_refusals_answer_problem_documents(app: Flask, client: FlaskClient) -> None:
    intake = api_token(app, "portal", "intake")
    work = api_token(app, "crm", "work", acting="hana")
    reference = _file(client, intake)["reference"]
    # Wrong scope: an intake client cannot list tasks.
    wrong = client.get("/api/v1/tasks", headers=bearer(intake))
    assert wrong.status_code == 403 and wrong.content_type == "application/problem+json"
    assert "scope" in wrong.get_json()["detail"]
    task = _first_task(client, work, reference)
    path = f"/api/v1/cases/{reference}/tasks/{task['task_id']}"
    # Invalid form data: each field says what is wrong.
    invalid = client.post(f"{path}/complete", headers=bearer(work), json={"values": {}})
    assert invalid.status_code == 422, invalid.get_data(as_text=True)
    assert invalid.get_json()["errors"] and invalid.get_json()["status"] == 422
    # A stale version: the case changed since the client read it.
    stale = client.post(f"{path}/complete",
                        headers=bearer(work, **{"If-Match": f'"{task["case_version"] - 1}"'}),
                        json={"values": fill(task["form"], CHOSEN)})
    assert stale.status_code == 409 and stale.get_json()["title"]
    # A session cookie never authenticates an API call; nor does a wrong token.
    assert client.get("/api/v1/tasks").status_code == 401
    wrong_token = client.get("/api/v1/tasks", headers=bearer("plt_" + "x" * 43))
    assert wrong_token.status_code == 401
    assert wrong_token.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_and_a_replaced_one_open_nothing(app, client) -> None:
    token = api_token(app, "crm", "read")
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    with app.app_context():
        client_id = api_clients.authenticate(token).client_id
        fresh = api_clients.reissue(client_id, ADMIN).token
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(fresh)).status_code == 200
    with app.app_context():
        api_clients.revoke(client_id, ADMIN)
        kinds = list(db.session.scalars(select(SystemEvent.kind).where(
            SystemEvent.kind.startswith("api_client.")).order_by(SystemEvent.id)))
    assert kinds == ["api_client.created", "api_client.token", "api_client.token",
                     "api_client.revoked"]
    refused = client.get("/api/v1/cases", headers=bearer(fresh))
    assert refused.status_code == 401 and refused.get_json()["status"] == 401


def test_a_client_over_its_rate_limit_is_told_when_to_come_back(
        app: Flask, client: FlaskClient, backend: str) -> None:
    token = api_token(app, "crm", "read", rate=3)
    answers = [client.get("/api/v1/cases", headers=bearer(token)) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    # Unless the minute turned between calls, the fourth is over the limit.
    if answers[3].status_code != 200:
        assert answers[3].status_code == 429
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
        assert answers[3].get_json()["type"].endswith("rate-limited")


def test_the_same_idempotency_key_replays_the_answer_without_filing_twice(
        app: Flask, client: FlaskClient, backend: str) -> None:
    token = api_token(app, "crm", "intake")
    first = _file(client, token, **{"Idempotency-Key": "order-7"})
    again = client.post("/api/v1/complaints",
                        headers=bearer(token, **{"Idempotency-Key": "order-7"}),
                        json={"fields": FIELDS})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["reference"] == first["reference"]
    other = client.post("/api/v1/complaints",
                        headers=bearer(token, **{"Idempotency-Key": "order-7"}),
                        data=json.dumps({"fields": {**FIELDS, "description": "Another"}}),
                        content_type="application/json")
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) == 1


def test_objectivity_refuses_a_client_acting_for_someone_who_handled_the_case(
        app: Flask, client: FlaskClient, auth, app_ctx) -> None:
    from tests.test_objectivity import REASON, handled_and_rejected, review_task

    reference = handled_and_rejected(client, auth)  # sam handled it on the web
    task_id = review_task(reference).task_id
    work = api_token(app, "crm", "work", acting="sam")
    claimed = client.post(f"/api/v1/cases/{reference}/tasks/{task_id}/claim",
                          headers=bearer(work))
    assert claimed.status_code == 403, claimed.get_data(as_text=True)
    assert REASON in claimed.get_json()["detail"]
    done = client.post(f"/api/v1/cases/{reference}/tasks/{task_id}/complete",
                       headers=bearer(work), json={"values": {
                           "review_outcome": "decision_confirmed", "review_note": "Fine"}})
    assert done.status_code == 403 and REASON in done.get_json()["detail"]


def test_cases_come_a_page_at_a_time_by_an_opaque_cursor(app, client) -> None:
    token = api_token(app, "crm", "intake", "read")
    filed = [_file(client, token)["reference"] for _ in range(3)]
    first = client.get("/api/v1/cases?limit=2", headers=bearer(token)).get_json()
    assert [c["reference"] for c in first["items"]] == filed[:2] and first["next_cursor"]
    rest = client.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}",
                      headers=bearer(token)).get_json()
    assert [c["reference"] for c in rest["items"]] == filed[2:] and rest["next_cursor"] is None
    bad = client.get("/api/v1/cases?cursor=nonsense", headers=bearer(token))
    assert bad.status_code == 422 and "cursor" in bad.get_json()["errors"]
    too_many = client.get("/api/v1/cases?limit=1000", headers=bearer(token))
    assert too_many.status_code == 422 and too_many.content_type == "application/problem+json"


def test_a_message_goes_in_only_when_the_case_waits_for_it(app, client) -> None:
    token = api_token(app, "crm", "intake", "read", "work", acting="hana")
    reference = _file(client, token)["reference"]
    waiting = client.get(f"/api/v1/cases/{reference}", headers=bearer(token)).get_json()
    assert waiting["waiting_for"], waiting
    name = next(n for n in waiting["waiting_for"] if "information" in n)
    refused = client.post(f"/api/v1/cases/{reference}/messages", headers=bearer(token),
                          json={"message": "no_such_message", "values": {}})
    assert refused.status_code == 409
    empty = client.post(f"/api/v1/cases/{reference}/messages", headers=bearer(token),
                        json={"message": name, "values": {}})
    assert empty.status_code == 422 and "information" in empty.get_json()["errors"]
    sent = client.post(f"/api/v1/cases/{reference}/messages", headers=bearer(token),
                       json={"message": name, "values": {"information": "The receipt."}})
    assert sent.status_code == 200, sent.get_data(as_text=True)
    history = client.get(f"/api/v1/cases/{reference}/history",
                         headers=bearer(token)).get_json()["items"]
    assert history[-1]["kind"] == "message.received" and history[-1]["actor"] == "api:crm"


def test_wrong_media_types_huge_and_malformed_bodies_answer_problems(app, client) -> None:
    token = api_token(app, "crm", "intake")
    text = client.post("/api/v1/complaints", headers=bearer(token), data="hello",
                       content_type="text/plain")
    assert text.status_code == 415 and text.content_type == "application/problem+json"
    broken = client.post("/api/v1/complaints", headers=bearer(token), data="{not json",
                         content_type="application/json")
    assert broken.status_code == 422 and broken.get_json()["errors"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    huge = client.post("/api/v1/complaints", headers=bearer(token),
                       json={"fields": {"description": "x" * 5000}})
    assert huge.status_code == 413 and huge.get_json()["status"] == 413
    nowhere = client.get("/api/v1/nothing-here", headers=bearer(token))
    assert nowhere.status_code == 404 and nowhere.content_type == "application/problem+json"
    wrong_method = client.delete("/api/v1/complaints", headers=bearer(token))
    assert wrong_method.status_code == 405 and wrong_method.get_json()["status"] == 405


def test_problems_speak_the_language_the_request_asks_for(app, client) -> None:
    token = api_token(app, "crm", "read")
    english = client.get("/api/v1/cases/CMP-2026-999999",
                         headers=bearer(token, **{"Accept-Language": "en"})).get_json()
    arabic = client.get("/api/v1/cases/CMP-2026-999999",
                        headers=bearer(token, **{"Accept-Language": "ar"})).get_json()
    assert english["detail"] == "There is no case CMP-2026-999999."
    assert arabic["status"] == 404 and arabic["detail"] != english["detail"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic["detail"])
