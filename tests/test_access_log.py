"""The access log: every read of a case's record leaves one row saying who read what, and
when; a refused read is logged as refused; the database itself refuses to change it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server import access, signals
from server.database import begin_write
from server.errors import Forbidden
from server.extensions import db
from server.models import AccessLogEntry, Attachment, HumanTask, utcnow
from server.services import access_log, cases
from server.services.actors import Actor

from .support.api import api_token, bearer
from .support.cases import decided, file_case
from .support.data import PDF
from .support.web import AuthActions, post, send


def reads(**where: object) -> list[AccessLogEntry]:
    """The access log's rows as committed now, oldest first, filtered by column values."""
    db.session.rollback()
    query = select(AccessLogEntry).order_by(AccessLogEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AccessLogEntry, column) == value)
    found = list(db.session.scalars(query))
    db.session.expunge_all()
    db.session.rollback()
    return found


def test_opening_a_case_page_logs_one_read_by_that_person(auth: AuthActions, app_ctx: None
                                                          ) -> None:
    reference, _ = file_case()
    handler = auth.signed_in("hana", "handler")
    assert reads() == []
    assert handler.get(f"/cases/{reference}").status_code == 200
    (row,) = reads()
    assert (row.actor, row.reference, row.what, row.allowed) == ("hana", reference, "case", True)
    assert row.user_id is not None and row.on_behalf is None
    assert row.case_id == cases.get_case(reference).id
    assert row.address == "127.0.0.1"


def test_a_document_download_logs_its_file_name(auth: AuthActions, app_ctx: None) -> None:
    reference, _ = file_case()
    handler = auth.signed_in("hana", "handler")
    added = send(handler, f"/cases/{reference}/documents", files=[("receipt.pdf", PDF)])
    assert added.status_code == 302
    db.session.rollback()
    document_id = db.session.scalar(select(Attachment.id).where(
        Attachment.filename == "receipt.pdf"))
    before = len(reads(what="document"))
    assert handler.get(f"/cases/{reference}/documents/{document_id}").status_code == 200
    documents = reads(what="document")
    assert len(documents) == before + 1 == 1
    assert (documents[0].actor, documents[0].reference, documents[0].detail) == \
        ("hana", reference, "receipt.pdf")


def test_letters_and_the_bundle_each_log_one_read(auth: AuthActions, app_ctx: None) -> None:
    reference, _ = decided()
    manager = auth.signed_in("maha", "complaints_manager")
    assert manager.get(f"/cases/{reference}/letter").status_code == 200
    assert manager.get(f"/cases/{reference}/letter.pdf").status_code == 200
    assert post(manager, f"/cases/{reference}/bundle.zip").status_code == 200
    letters = reads(what="letter")
    assert [(row.actor, row.reference, row.detail) for row in letters] == [
        ("maha", reference, "HTML, en"), ("maha", reference, "PDF, en")]
    (bundle,) = reads(what="bundle")
    assert (bundle.actor, bundle.reference, bundle.detail) == \
        ("maha", reference, f"{reference}-bundle.zip")


def test_no_letter_yet_is_no_read(auth: AuthActions, app_ctx: None) -> None:
    reference, _ = file_case()
    handler = auth.signed_in("hana", "handler")
    assert handler.get(f"/cases/{reference}/letter.pdf").status_code == 404
    assert reads(what="letter") == []


def test_the_task_page_logs_a_read_of_its_case(auth: AuthActions, app_ctx: None) -> None:
    reference, _ = file_case()
    handler = auth.signed_in("hana", "handler")
    case_id = cases.get_case(reference).id
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case_id))
    assert handler.get(f"/cases/{reference}/tasks/{task_id}").status_code == 200
    (row,) = reads()
    assert (row.actor, row.case_id, row.what) == ("hana", case_id, "case")
    assert row.detail and row.detail.startswith("task: ")


def test_a_search_export_logs_one_read_per_case_exported(auth: AuthActions, app_ctx: None
                                                         ) -> None:
    savings = [file_case(product_service="Savings account")[0] for _ in range(3)]
    file_case(product_service="Credit card")
    supervisor = auth.signed_in("sara", "supervisor")
    assert post(supervisor, "/cases/export.csv", {"product": "savings"}).status_code == 200
    exported = reads(what="export")
    assert sorted(row.reference for row in exported) == sorted(savings)
    assert {(row.actor, row.detail) for row in exported} == {("sara", "case search, CSV")}
    assert post(supervisor, "/cases/export.xlsx", {"product": "savings"}).status_code == 200
    assert len(reads(what="export")) == 6
    assert post(supervisor, "/cases/export.csv", {"product": "nothing"}).status_code == 200
    assert len(reads()) == 6  # an export of no case reads none


def test_api_reads_log_the_client_and_its_acting_user(app: Flask, client, app_ctx: None
                                                      ) -> None:
    reference, _ = file_case()
    token = api_token(app, "crm", "read", acting="hana")
    assert client.get(f"/api/v1/cases/{reference}", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v1/cases/{reference}/history",
                      headers=bearer(token)).status_code == 200
    rows = reads()
    assert [(row.actor, row.on_behalf, row.what, row.detail, row.reference) for row in rows] == [
        ("api:crm", "hana", "api", "case", reference),
        ("api:crm", "hana", "api", "history", reference)]
    assert all(row.case_id == cases.get_case(reference).id and row.user_id for row in rows)


def test_an_api_read_of_a_missing_case_logs_nothing(app: Flask, client, app_ctx: None) -> None:
    token = api_token(app, "crm", "read")
    assert client.get("/api/v1/cases/CMP-2026-999999", headers=bearer(token)).status_code == 404
    assert reads() == []


def test_a_refused_read_is_logged_as_refused(app: Flask, app_ctx: None) -> None:
    reference, _ = file_case()
    case_id = cases.get_case(reference).id
    omar = Actor("omar", 7, frozenset({"handler"}))
    with app.test_request_context(f"/cases/{reference}", environ_base={
            "REMOTE_ADDR": "10.1.2.3"}):
        signals.case_read_refused.send(app, actor=omar, case_id=case_id, what="case",
                                       detail="another team's case")
        db.session.rollback()  # the refusal rolls the request back: the log row stays
    (row,) = reads()
    assert (row.actor, row.user_id, row.reference, row.allowed, row.address, row.detail) == \
        ("omar", 7, reference, False, "10.1.2.3", "another team's case")


def test_a_refusal_in_the_middle_of_a_write_is_logged_after_the_rollback(
        app: Flask, client, app_ctx: None) -> None:
    reference, _ = file_case()
    omar = Actor("omar", 7, frozenset({"handler"}))

    @access.public
    def refuse_while_writing() -> str:
        begin_write()
        cases.get_case(reference).description = "changed"  # rolled back with the refusal
        signals.case_read_refused.send(app, actor=omar, case_id=None, reference=reference,
                                       what="case", detail="need to know")
        raise Forbidden("Not your team's case.")

    app.add_url_rule("/test/refuse", view_func=refuse_while_writing)
    assert client.get("/test/refuse").status_code == 403
    (row,) = reads()
    assert (row.actor, row.reference, row.allowed, row.detail) == \
        ("omar", reference, False, "need to know")
    assert cases.get_case(reference).description != "changed"


def _sql(statement: str) -> None:
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text(statement))


def test_the_log_cannot_be_changed_or_deleted_through_sql(auth: AuthActions, app_ctx: None
                                                         ) -> None:
    reference, _ = file_case()
    assert auth.signed_in("hana", "handler").get(f"/cases/{reference}").status_code == 200
    (row,) = reads()
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(f"UPDATE access_log SET actor = 'nobody' WHERE id = {row.id}")
    with pytest.raises(DBAPIError, match="cannot be deleted"):
        _sql(f"DELETE FROM access_log WHERE id = {row.id}")
    (still,) = reads()
    assert still.actor == "hana"


def test_the_purge_deletes_only_reads_older_than_the_setting(app: Flask, app_ctx: None) -> None:
    now = utcnow()
    hana = Actor("hana", 1, frozenset({"handler"}))
    for age in (400, 100, 10):
        access_log.record(hana, [(None, f"CMP-OLD-{age}")], "case", now=now - timedelta(days=age))
    app.config["PLAINT_ACCESS_LOG_DAYS"] = 365
    assert access_log.purge(now) == 1
    assert [row.reference for row in reads()] == ["CMP-OLD-100", "CMP-OLD-10"]
    app.config["PLAINT_ACCESS_LOG_DAYS"] = 90
    assert access_log.purge(now) == 1
    assert [row.reference for row in reads()] == ["CMP-OLD-10"]
