"""Status labels and task titles in the reader's language wherever they are listed.

A case keeps its status label (and its tasks their titles) in English, as its process
version wrote them; every page, file and e-mail a person reads in Arabic shows them in
the Arabic of that version's translation file (workflows/translations.ar.json for the
reference process), while the filters still compare the stored English.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, update

from server.engine import Notice
from server.extensions import db
from server.models import Case, HumanTask, OutboxMessage, utcnow
from server.services import actions, cases, notifications, tasks
from server.services.actors import Actor
from server.services.recording import NOBODY_ELIGIBLE, load_case

from .support.data import HANDLER, INTAKE
from .support.mail import messages, staff
from .support.process import REPO
from .support.web import AuthActions, post

AR = {"Accept-Language": "ar"}
TEXTS: dict[str, str] = json.loads(
    (REPO / "workflows" / "translations.ar.json").read_text(encoding="utf-8"))
ASSESSED, RECEIVED = "Being assessed", "Received"
MANAGER = Actor("mona.manager", 301, frozenset({"complaints_manager"}))
_ROW = re.compile(r'<tr><td><a href="/cases/(CMP-\d{4}-\d{6})">')


def start(name: str, **values: Any) -> str:
    """A complaint started through the services, its projected row then set; its reference."""
    case = cases.start_case({**INTAKE, "complainant_name": name}, "web", HANDLER).case
    if values:
        db.session.execute(update(Case).where(Case.id == case.id).values(**values))
        db.session.commit()
    return case.reference


def test_the_search_lists_and_offers_statuses_in_arabic_and_still_filters_by_them(
        auth: AuthActions, app_ctx: None) -> None:
    assessed = start("Layla Haddad", status_label=ASSESSED)
    received = start("Omar Farouk")
    hana = auth.signed_in("hana", "handler")
    page = hana.get("/cases", headers=AR).get_data(as_text=True)
    # The option names the status in Arabic; its value stays the stored English label.
    assert f'<option value="{ASSESSED}">{TEXTS[ASSESSED]}</option>' in page
    assert f'<option value="{RECEIVED}">{TEXTS[RECEIVED]}</option>' in page
    assert f"<td>{TEXTS[ASSESSED]}" in page and f"<td>{TEXTS[RECEIVED]}" in page
    assert f">{ASSESSED}<" not in page
    found = hana.get("/cases", query_string={"status": ASSESSED}, headers=AR)
    text = found.get_data(as_text=True)
    assert _ROW.findall(text) == [assessed] and received not in text
    assert f'<option value="{ASSESSED}" selected>{TEXTS[ASSESSED]}</option>' in text
    english = hana.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'<option value="{ASSESSED}">{ASSESSED}</option>' in english
    assert f"<td>{ASSESSED}" in english


def test_the_case_files_carry_headers_and_statuses_in_the_readers_language(
        auth: AuthActions, app_ctx: None) -> None:
    reference = start("Layla Haddad", status_label=ASSESSED)
    hana = auth.signed_in("hana", "handler")
    answer = post(hana, "/cases/export.xlsx", {"status": ASSESSED}, headers=AR)
    assert answer.status_code == 200
    header, row = list(load_workbook(io.BytesIO(answer.get_data())).active
                       .iter_rows(values_only=True))
    assert header[0] == "الرقم المرجعي" and header[2] == "الوضع"
    assert row[0] == reference and row[2] == TEXTS[ASSESSED]
    answer = post(hana, "/cases/export.csv", {"status": ASSESSED}, headers=AR)
    header, row = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert header[2] == "الوضع" and row[2] == TEXTS[ASSESSED]
    english = post(hana, "/cases/export.csv", {"status": ASSESSED},
                   headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f",{ASSESSED}," in english


def test_the_inbox_offers_and_filters_by_statuses_in_arabic(
        auth: AuthActions, app_ctx: None) -> None:
    assessed = start("Layla Haddad", status_label=ASSESSED)
    received = start("Omar Farouk")
    hana = auth.signed_in("hana", "handler")
    assert post(hana, "/account", {"language": "ar"}).status_code == 302  # her profile
    page = hana.get("/tasks?view=unclaimed").get_data(as_text=True)
    assert f'<option value="{ASSESSED}">{TEXTS[ASSESSED]}</option>' in page
    assert f'<option value="{RECEIVED}">{TEXTS[RECEIVED]}</option>' in page
    found = hana.get("/tasks", query_string={"view": "unclaimed", "status": ASSESSED})
    text = found.get_data(as_text=True)
    assert assessed in text and received not in text
    assert f"<td>{TEXTS[ASSESSED]}</td>" in text
    assert f'<option value="{ASSESSED}" selected>{TEXTS[ASSESSED]}</option>' in text


def test_related_complaints_and_corrective_actions_show_statuses_in_arabic(
        auth: AuthActions, app_ctx: None) -> None:
    earlier = start("Layla Haddad", status_label=ASSESSED)
    later = start("Layla Haddad")  # the same e-mail: related
    action = actions.open_by_hand(actions.NewAction("Fix the queue", "process", "Do it.",
                                                    later), MANAGER)
    db.session.rollback()
    action_status = load_case(action.reference).status_label
    assert action_status and action_status in TEXTS
    mona = auth.signed_in("mona", "complaints_manager")
    page = mona.get(f"/cases/{later}", headers=AR).get_data(as_text=True)
    related = page.split('id="related"', 1)[1].split("</section>", 1)[0]
    assert earlier in related and TEXTS[ASSESSED] in related and ASSESSED not in related
    linked = page.split('id="corrective-actions"', 1)[1].split("</section>", 1)[0]
    assert TEXTS[action_status] in linked and action_status not in linked
    shown = mona.get(f"/actions/{action.reference}", headers=AR).get_data(as_text=True)
    assert f"{TEXTS[action_status]}</span></h1>" in shown  # the action's own status
    complaints = shown.split('id="complaints"', 1)[1].split("</section>", 1)[0]
    assert TEXTS[RECEIVED] in complaints and f"· {RECEIVED}<" not in complaints
    tasks = shown.split('id="action-tasks"', 1)[1].split("</ul>", 1)[0]
    assert TEXTS["Plan the corrective action"] in tasks  # the action's task, titled in Arabic
    assert "Plan the corrective action" not in tasks
    register = mona.get("/actions", headers=AR).get_data(as_text=True)
    assert f"<td>{TEXTS[action_status]}</td>" in register
    sheet = load_workbook(io.BytesIO(mona.get("/actions.xlsx", headers=AR).get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    column = header.index("الوضع")
    assert [row[column] for row in rows if action.reference in row] == [TEXTS[action_status]]


def test_a_staff_email_names_the_task_in_the_staff_language(app, app_ctx: None) -> None:
    staff("sara", "supervisor")
    app.config["PLAINT_STAFF_LANGUAGE"] = "ar"
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    title = "Acknowledge complaint"
    notifications.enqueue(load_case(case.reference), [Notice(
        "reminder", "Supervisor", "element", title, "no-such-task", None, {})], utcnow())
    db.session.commit()
    [row] = [m for m in messages(event="reminder") if m.element == "element"]
    assert isinstance(row, OutboxMessage) and row.language == "ar"
    assert TEXTS[title] in row.subject and f"«{TEXTS[title]}»" in row.body_text
    assert title not in row.body_text


def test_a_refused_task_is_named_in_the_readers_language(app, app_ctx: None) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    assert task is not None and task.title == "Acknowledge complaint"
    auditor = Actor("ali.auditor", 999, frozenset({"auditor"}))
    with app.test_request_context(headers=AR):
        reason = tasks.refusal(case, task, auditor)
    assert reason is not None and TEXTS[task.title] in reason and task.title not in reason


def test_a_task_nobody_may_do_is_flagged_in_the_readers_language(
        auth: AuthActions, app_ctx: None) -> None:
    reference = start("Layla Haddad")
    db.session.execute(update(HumanTask).where(HumanTask.case_id == select(Case.id).where(
        Case.reference == reference).scalar_subquery()).values(flag=NOBODY_ELIGIBLE))
    db.session.commit()
    hana = auth.signed_in("hana", "handler")
    page = hana.get("/tasks?view=unclaimed", headers=AR).get_data(as_text=True)
    assert reference in page and NOBODY_ELIGIBLE not in page
    assert "لا يحق لأحد إنجاز هذه المهمة" in page
    english = hana.get("/tasks?view=unclaimed", headers={"Accept-Language": "en"})
    assert NOBODY_ELIGIBLE in english.get_data(as_text=True)
