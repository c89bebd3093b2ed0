"""Bulk access and the auditors' page: one person opening many cases in a short time
raises one alert (not one per case) that auditors are mailed about and acknowledge; the
auditors filter the log, export it (the export is logged too) and see who opened a case."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server.database import begin_write
from server.extensions import db
from server.models import AuditChainHead, BulkAccessAlert, SystemEvent, utcnow
from server.services import access_log, localtime, system_log
from server.services.actors import Actor

from .support.cases import file_case
from .support.mail import messages
from .support.web import AuthActions, make_user, post

HANA = Actor("hana", 11, frozenset({"handler"}))


def alerts() -> list[BulkAccessAlert]:
    """The bulk-access alerts as committed now, oldest first."""
    db.session.rollback()
    found = list(db.session.scalars(select(BulkAccessAlert).order_by(BulkAccessAlert.id)))
    db.session.expunge_all()
    db.session.rollback()
    return found


def system_events(kind: str) -> list[SystemEvent]:
    """The chained system log's entries of one kind."""
    db.session.rollback()
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.kind == kind)))


@pytest.fixture
def small_limit(app: Flask) -> None:
    """More than 3 cases within 10 minutes is bulk access."""
    app.config.update(PLAINT_BULK_ACCESS_CASES=3, PLAINT_BULK_ACCESS_MINUTES=10)


def test_opening_many_cases_raises_one_alert_and_mails_the_auditors(
        auth: AuthActions, app_ctx: None, small_limit: None) -> None:
    make_user("aziz", "auditor", email="aziz@example.com")
    make_user("amal", "auditor", email="amal@example.com")
    make_user("adam", "auditor")  # no address: nobody to mail
    references = [file_case()[0] for _ in range(6)]
    handler = auth.signed_in("hana", "handler")
    for reference in references[:3]:
        assert handler.get(f"/cases/{reference}").status_code == 200
        assert handler.get(f"/cases/{reference}").status_code == 200  # the same case again
    assert alerts() == []  # three distinct cases: not more than the limit
    for reference in references[3:]:
        assert handler.get(f"/cases/{reference}").status_code == 200
    (alert,) = alerts()  # the 4th case raised it; the 5th and 6th did not raise another
    assert (alert.person, alert.case_count, alert.window_minutes) == ("hana", 4, 10)
    assert alert.acknowledged_at is None
    (logged,) = system_events("access.bulk_alert")
    assert "hana opened 4 cases within 10 minutes" in logged.summary and logged.hash
    mails = messages(event="bulk_access")
    assert sorted(mail.recipient for mail in mails) == ["amal@example.com", "aziz@example.com"]
    assert all(mail.status == "pending" for mail in mails)
    assert "hana opened 4 cases within 10 minutes" in mails[0].subject
    assert "/audit/access?person=hana" in mails[0].body_text


def test_reading_slowly_raises_no_alert_and_a_new_window_may_raise_another(
        app: Flask, app_ctx: None, small_limit: None) -> None:
    start = utcnow() - timedelta(hours=2)
    for minute in range(0, 80, 4):  # 20 cases, one every 4 minutes: at most 3 in 10 minutes
        access_log.record(HANA, [(minute + 1, f"C{minute}")], "case",
                          now=start + timedelta(minutes=minute))
    assert alerts() == []
    for case in range(5):  # then 5 within a minute: one alert
        access_log.record(HANA, [(100 + case, None)], "case", now=start + timedelta(minutes=90))
    assert len(alerts()) == 1
    for case in range(5):  # 5 more, an hour later: a new window, a new alert
        access_log.record(HANA, [(200 + case, None)], "case", now=start + timedelta(minutes=150))
    assert [alert.case_count for alert in alerts()] == [4, 4]  # raised at the 4th


def test_reading_the_same_cases_again_logs_every_read_and_a_new_case_still_raises_the_alert(
        app: Flask, app_ctx: None, small_limit: None) -> None:
    start = utcnow() - timedelta(minutes=30)
    for second in range(0, 40, 10):  # cases 1 to 3 read again and again within a minute
        for case in (1, 2, 3):
            access_log.record(HANA, [(case, None)], "case",
                              now=start + timedelta(seconds=second + case))
    assert alerts() == []
    access_log.record(HANA, [(1, None)], "case", now=start + timedelta(minutes=3))
    access_log.record(HANA, [(4, None)], "case", now=start + timedelta(minutes=3, seconds=1))
    assert [alert.case_count for alert in alerts()] == [4]  # the 4th distinct case raised it
    logged = access_log.listing(access_log.parse({"person": "hana"}))[1]
    assert logged == 14  # every read has its row, the ones spared the count included


def test_an_alert_raised_on_a_page_that_read_the_system_log_first_still_chains_on_its_head(
        app: Flask, app_ctx: None, small_limit: None) -> None:
    def elsewhere(summary: str) -> None:
        with app.app_context():  # another request, with a session of its own
            begin_write()
            system_log.record("someone", "test.elsewhere", summary, {})
            db.session.commit()

    elsewhere("Before the page")
    for case in (1, 2, 3):
        access_log.record(HANA, [(case, None)], "case")
    head = db.session.scalar(select(AuditChainHead).where(
        AuditChainHead.name == system_log.CHAIN))
    assert head is not None  # the page read the head: it stays loaded
    elsewhere("While the page was being read")
    access_log.record(HANA, [(4, None)], "case")  # the 4th case: an alert, chained
    assert len(alerts()) == 1
    assert system_log.verify().problems == []


def test_refused_reads_do_not_count_towards_bulk_access(app: Flask, app_ctx: None,
                                                        small_limit: None) -> None:
    for case in range(6):
        access_log.record(HANA, [(case + 1, None)], "case", allowed=False)
    assert alerts() == []


def test_a_big_export_is_bulk_access_too(auth: AuthActions, app_ctx: None,
                                         small_limit: None) -> None:
    for _ in range(4):
        file_case(product_service="Savings account")
    supervisor = auth.signed_in("sara", "supervisor")
    assert post(supervisor, "/cases/export.csv", {"product": "savings"}).status_code == 200
    (alert,) = alerts()
    assert (alert.person, alert.case_count) == ("sara", 4)
    (held,) = messages(event="bulk_access")  # no auditor has an address: held, with why
    assert held.status == "held" and "auditor" in (held.last_error or "")


def test_an_auditor_acknowledges_an_alert_with_a_note(auth: AuthActions, app_ctx: None,
                                                     small_limit: None) -> None:
    for case in range(5):
        access_log.record(HANA, [(case + 1, None)], "case")
    (alert,) = alerts()
    auditor = auth.signed_in("aziz", "auditor")
    page = auditor.get("/audit/access").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in page and "Acknowledge" in page
    refused = post(auditor, f"/audit/access/alerts/{alert.id}/acknowledge", {"note": "  "})
    assert refused.status_code == 422
    assert "the note cannot be empty" in refused.get_data(as_text=True)
    assert alerts()[0].acknowledged_at is None
    done = post(auditor, f"/audit/access/alerts/{alert.id}/acknowledge",
                {"note": "Quarterly file review, agreed with her manager."})
    assert done.status_code == 302
    (seen,) = alerts()
    assert (seen.acknowledged_by, seen.note) == \
        ("aziz", "Quarterly file review, agreed with her manager.")
    assert len(system_events("access.alert_acknowledged")) == 1
    page = auditor.get("/audit/access").get_data(as_text=True)
    assert "Acknowledged by aziz" in page and "Quarterly file review" in page


def _people(page: str) -> list[str]:
    """The person column of the reads table, top to bottom."""
    body = page.partition('id="reads"')[2].partition("</tbody>")[0]
    return [row.split("<td")[2].partition(">")[2].split("<")[0].strip()
            for row in body.split('class="access-entry')[1:]]


def test_the_auditors_page_filters_the_log(auth: AuthActions, app_ctx: None) -> None:
    now = utcnow()
    omar = Actor("omar", 12, frozenset({"handler"}))
    access_log.record(HANA, [(1, "CMP-2026-000001")], "case", now=now - timedelta(days=3))
    access_log.record(HANA, [(2, "CMP-2026-000002")], "document", "id.pdf", now=now)
    access_log.record(omar, [(1, "CMP-2026-000001")], "case", allowed=False, now=now)
    auditor = auth.signed_in("aziz", "auditor")

    def people(**query: str) -> list[str]:
        page = auditor.get("/audit/access", query_string=query)
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        return _people(page.get_data(as_text=True))

    assert people() == ["omar", "hana", "hana"]
    assert people(person="hana") == ["hana", "hana"]
    assert people(reference="cmp-2026-000001") == ["omar", "hana"]
    assert people(what="document") == ["hana"]
    assert people(refused="1") == ["omar"]
    # The period is in the organisation's time zone (Riyadh): after 21:00 UTC it is tomorrow.
    today = now.astimezone(localtime.organisation_zone()).date().isoformat()
    assert people(**{"from": today, "to": today}) == ["omar", "hana"]
    bad = auditor.get("/audit/access", query_string={"from": "3 March", "what": "everything"})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Give a date as YYYY-MM-DD" in body and "Choose what was read from the list" in body
    assert 'value="3 March"' in body  # the input is kept


def test_the_log_is_paged(auth: AuthActions, app_ctx: None) -> None:
    now = utcnow()
    for number in range(access_log.PER_PAGE + 5):
        access_log.record(Actor(f"user{number}", None), [(number + 1, None)], "case",
                          now=now - timedelta(seconds=number))
    auditor = auth.signed_in("aziz", "auditor")
    first = _people(auditor.get("/audit/access").get_data(as_text=True))
    second = _people(auditor.get("/audit/access?page=2").get_data(as_text=True))
    assert len(first) == access_log.PER_PAGE and first[0] == "user0"
    assert second == [f"user{number}" for number in range(access_log.PER_PAGE,
                                                          access_log.PER_PAGE + 5)]


def test_the_csv_export_holds_the_filtered_reads_and_is_itself_logged(
        auth: AuthActions, app_ctx: None) -> None:
    access_log.record(HANA, [(1, "CMP-2026-000001")], "document", "id.pdf",
                      address="10.0.0.9")
    access_log.record(Actor("omar", 12), [(2, "CMP-2026-000002")], "case")
    auditor = auth.signed_in("aziz", "auditor")
    sent = post(auditor, "/audit/access.csv", {"person": "hana"})
    assert sent.status_code == 200 and sent.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(sent.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][1:] == ["hana", "", "CMP-2026-000001", "document", "id.pdf", "allowed",
                           "10.0.0.9"]
    (logged,) = system_events("access_log.exported")
    assert logged.actor == "aziz" and "person" in logged.data


def test_only_auditors_and_admins_read_the_log(auth: AuthActions, app_ctx: None) -> None:
    for role in ("handler", "supervisor", "complaints_manager"):
        assert auth.signed_in(f"x{role}", role).get("/audit/access").status_code == 403
    assert auth.signed_in("ada", "admin").get("/audit/access").status_code == 200
    assert "Access log" in auth.signed_in("aziz", "auditor").get(
        "/audit/access").get_data(as_text=True)


def test_managers_and_auditors_see_who_opened_a_case(auth: AuthActions, app_ctx: None) -> None:
    reference, _ = file_case()
    handler = auth.signed_in("hana", "handler")
    page = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Who opened this case" not in page
    assert handler.get(f"/cases/{reference}/access").status_code == 403
    manager = auth.signed_in("maha", "complaints_manager")
    page = manager.get(f"/cases/{reference}").get_data(as_text=True)
    section = page.partition('id="case-readers"')[2].partition("</section>")[0]
    assert "Who opened this case" in page
    assert "maha" in section and "hana" in section  # themselves, just now, and the handler
    assert f'href="/cases/{reference}/access"' in section
    full = auth.signed_in("aziz", "auditor").get(f"/cases/{reference}/access")
    assert full.status_code == 200
    listed = full.get_data(as_text=True).partition('id="case-reads"')[2]
    assert listed.count('class="access-entry') == 2  # the auditor's list is no case read


def test_the_alert_mail_is_in_the_staff_language(app: Flask, app_ctx: None,
                                                 small_limit: None) -> None:
    app.config["PLAINT_STAFF_LANGUAGE"] = "ar"
    make_user("aziz", "auditor", email="aziz@example.com")
    for case in range(4):
        access_log.record(HANA, [(case + 1, None)], "case")
    (mail,) = messages(event="bulk_access")
    assert mail.language == "ar"
    assert "وصول جماعي" in mail.subject and "hana" in mail.subject
    assert 'dir="rtl"' in mail.body_html
