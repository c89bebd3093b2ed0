"""Messages that reached people in English only, now in the reader's language.

Each test reads a page (or an e-mail) as an Arabic reader and finds the message in Arabic,
with the process's own texts (step titles, task titles) in the Arabic of the case's version.
"""

from __future__ import annotations

import html
import json
import re

import time_machine
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from server.engine import Notice
from server.extensions import db
from server.models import HumanTask, Incident, ProcessVersion, User, utcnow
from server.services import actions, cases, notifications, timers
from server.services import tasks as tasks_service
from server.services.actors import Actor
from server.services.processes import deploy, drafts
from server.services.recording import load_case

from .support.cases import ready_task
from .support.data import ACK, ASSESS, BREACH, HANDLER, INTAKE, PUBLIC_FORM, SECOND, START
from .support.mail import messages, staff
from .support.process import REPO, reference_bpmn, reference_files, with_bpmn
from .support.web import AuthActions, post, send, submit
from .test_incidents import client_of, stopped_case
from .test_objectivity import handled_and_rejected, review_task
from .test_status_words import MANAGER

AR = {"Accept-Language": "ar"}
TEXTS: dict[str, str] = json.loads(
    (REPO / "workflows" / "translations.ar.json").read_text(encoding="utf-8"))
ARABIC = re.compile(r"[\u0600-\u06FF]")


def text_of(answer) -> str:  # type: ignore[no-untyped-def]
    """A page's text as a person reads it."""
    return html.unescape(answer.get_data(as_text=True))


def test_objectivity_refuses_an_arabic_reader_in_arabic_with_the_steps_in_arabic(
        client: FlaskClient, auth: AuthActions, app_ctx: None) -> None:
    reference = handled_and_rejected(client, auth)
    post(client, "/account", {"language": "ar"})
    task = review_task(reference)
    page = client.get(f"/cases/{reference}/tasks/{task.task_id}")
    assert page.status_code == 403
    text = text_of(page)
    assert "لقد سبق أن عملتَ على هذه الحالة" in text
    assert TEXTS["Investigate"] in text and TEXTS[task.title] in text
    assert "handled this case before" not in text and "Investigate," not in text


def test_a_supervisor_reading_arabic_is_told_in_arabic_who_handled_the_case(
        client: FlaskClient, auth: AuthActions, app_ctx: None) -> None:
    reference = handled_and_rejected(client, auth)
    task = review_task(reference)
    auth.logout()
    auth.login("sara")
    post(client, "/account", {"language": "ar"})
    page = post(client, f"/cases/{reference}/tasks/{task.task_id}/reassign",
                {"username": "sam", "back": "/inbox"}, follow_redirects=True)
    text = text_of(page)
    assert "سبق أن عمل sam على هذه الحالة" in text and "handled this case" not in text


def test_a_complaint_the_process_cannot_register_is_refused_in_arabic(
        auth: AuthActions, app_ctx: None) -> None:
    bulky = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "acknowledgement_escalated = False\nbulky = 'b' * 800000\nmore = 'm' * 800000")
    deploy(with_bpmn(bulky), Actor.system("test"))
    hana = auth.signed_in("hana", "handler")
    post(hana, "/account", {"language": "ar"})
    sent = send(hana, "/cases/new", {**PUBLIC_FORM, "channel": "phone"})
    assert sent.status_code == 422
    text = text_of(sent)
    assert "تعذّر تسجيل الشكوى: " in text and "could not be registered" not in text


def test_a_task_the_process_cannot_complete_is_refused_in_arabic(
        client: FlaskClient, auth: AuthActions, app_ctx: None) -> None:
    deploy(with_bpmn(reference_bpmn().replace(">not in_scope<", ">not in_scope_unknown<")),
           Actor.system("test"))
    reference = cases.start_case(dict(INTAKE), "web", Actor.system("test")).case.reference
    auth.login("hana", "handler")
    post(client, "/account", {"language": "ar"})
    cases.complete_task(reference, ready_task(reference, "acknowledge"), ACK,
                        Actor("hana", None, frozenset({"handler"})))
    path = f"/cases/{reference}/tasks/{ready_task(reference, 'assess')}"
    sent = submit(client, path, {k: {True: "true", False: "false"}.get(v, str(v))
                                 for k, v in ASSESS.items()})
    assert sent.status_code == 422
    text = text_of(sent)
    assert "تعذّر إكمال المهمة: " in text and "could not be completed" not in text


STOPPED_AT = "Still not acknowledged"
STOPPED_AT_AR = "لم يُقرّ باستلامها بعد"


def test_the_incidents_name_the_failed_step_in_the_arabic_of_the_case_version(
        app, app_ctx: None) -> None:
    """The failed step's title is stored in English; the list and the page show the Arabic
    the case's process version gives it."""
    files = reference_files()
    texts = {**json.loads(files["translations.ar.json"]), STOPPED_AT: STOPPED_AT_AR}
    files["translations.ar.json"] = json.dumps(texts, ensure_ascii=False).encode("utf-8")
    with time_machine.travel(START, tick=False) as clock:
        deploy(files, Actor.system("test"))
        stopped_case(app)
        clock.move_to(BREACH + SECOND)
        assert timers.sweep().failed == 1
        [incident] = db.session.scalars(select(Incident))
        assert incident.element_title == STOPPED_AT
        manager = client_of(app, "maha")
        where = re.compile(r"<(?:td|dd)[^>]*>([^<]*) <code>acknowledgement_still_overdue</code>")
        for path in ("/incidents", f"/incidents/{incident.id}"):
            english = manager.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
            arabic = text_of(manager.get(path, headers=AR))
            assert where.findall(english) == [STOPPED_AT]
            assert where.findall(arabic) == [STOPPED_AT_AR]


def test_staff_emails_name_the_priority_in_their_language(app, app_ctx: None) -> None:
    staff("sara", "supervisor")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    for language in ("ar", "en"):
        app.config["PLAINT_STAFF_LANGUAGE"] = language
        notifications.enqueue(load_case(case.reference), [Notice(
            "reminder", "Supervisor", language, "Acknowledge complaint", "no-such-task", None,
            {"priority": "high"})], utcnow())
        db.session.commit()
    [arabic] = [m for m in messages(event="reminder") if m.element == "ar"]
    [english] = [m for m in messages(event="reminder") if m.element == "en"]
    assert "الأولوية: عالية" in arabic.body_text and "high" not in arabic.body_text
    assert "Priority: High" in english.body_text


def test_roles_are_named_in_the_readers_language_and_added_roles_keep_their_names(
        auth: AuthActions, app_ctx: None) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    action = actions.open_by_hand(actions.NewAction("Fix the queue", "process", "Do it.",
                                                    case.reference), MANAGER)
    mona = auth.signed_in("mona", "complaints_manager")
    shown = mona.get(f"/actions/{action.reference}", headers=AR).get_data(as_text=True)
    tasks = shown.split('id="action-tasks"', 1)[1].split("</ul>", 1)[0]
    assert "(موظف المعالجة," in tasks and "Handler" not in tasks
    page = mona.get(f"/cases/{case.reference}", headers=AR).get_data(as_text=True)
    assert "(موظف المعالجة," in page and "(Handler," not in page
    # A role an administrator adds keeps its own name; Plaint's own are in Arabic.
    adam = auth.signed_in("adam", "admin")
    post(adam, "/admin/roles", {"name": "fraud_desk", "description": "Card fraud"})
    roles = adam.get("/admin/roles", headers=AR).get_data(as_text=True)
    assert "مدير الشكاوى <code>complaints_manager</code>" in roles
    assert "المدقق: يطّلع على كل شيء ولا يغيّر شيئاً" in roles
    assert "Fraud desk <code>fraud_desk</code>" in roles and "Card fraud" in roles
    # A refusal names the role the task needs in the reader's language.
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    auditor = Actor("ali.auditor", 999, frozenset({"auditor"}))
    with current_app.test_request_context(headers=AR):
        reason = tasks_service.refusal(case, task, auditor)
    assert reason is not None and "«موظف المعالجة»" in reason


def studio_config(client: FlaskClient, draft_id: int, **headers: str) -> dict:
    """The data the studio's editor page hands its script."""
    page = client.get(f"/studio/drafts/{draft_id}", headers=headers).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="studio-config">(.*?)</script>',
                      page, re.S)
    assert found, "no studio config on the page"
    return json.loads(found.group(1))


def test_the_studio_counts_problems_in_each_arabic_plural_form(
        auth: AuthActions, app_ctx: None) -> None:
    olga = auth.signed_in("olga", "process_owner")
    user = db.session.scalar(select(User).where(User.username == "olga"))
    active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    draft_id = drafts.edit_version(active.id, Actor.for_user(user)).id
    text = studio_config(olga, draft_id, **AR)["text"]
    assert text["problems"] == {
        "zero": "لا توجد مشكلات", "one": "مشكلة واحدة", "two": "مشكلتان",
        "few": "{count} مشكلات", "many": "{count} مشكلة", "other": "{count} مشكلة"}
    assert text["problemsInFile"]["two"] == "مشكلتان في هذا الملف"
    english = studio_config(olga, draft_id, **{"Accept-Language": "en"})["text"]
    assert english["problems"]["one"] == "{count} problem"
    assert english["problems"]["other"] == "{count} problems"


def test_the_studio_refuses_an_arabic_process_owner_in_arabic(
        auth: AuthActions, app_ctx: None) -> None:
    olga = auth.signed_in("olga", "process_owner")
    post(olga, "/account", {"language": "ar"})
    user = db.session.scalar(select(User).where(User.username == "olga"))
    active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    draft_id = drafts.edit_version(active.id, Actor.for_user(user)).id
    missing = olga.get(f"/studio/drafts/{draft_id}/files/nothing.json")
    assert missing.status_code == 404
    [problem] = missing.get_json()["problems"]
    assert problem["message"] == "لا يوجد ملف كهذا في المسودة"
    nobody = olga.get("/studio/drafts/999999/files")
    assert nobody.status_code == 404
    assert nobody.get_json()["problems"][0]["message"] == "لا توجد مسودة كهذه"
