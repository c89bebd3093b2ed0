"""Messages that reached people in English only, now in the reader's language.

Each test reads a page (or an e-mail) as an Arabic reader and finds the message in Arabic,
with the process's own texts (step titles, task titles) in the Arabic of the case's version.
"""

from __future__ import annotations

import html
import json
import re

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Incident
from server.services import cases, timers
from server.services.actors import Actor
from server.services.processes import deploy

from .support.cases import ready_task
from .support.data import ACK, ASSESS, BREACH, INTAKE, PUBLIC_FORM, SECOND, START
from .support.process import REPO, reference_bpmn, reference_files, with_bpmn
from .support.web import AuthActions, post, send, submit
from .test_incidents import client_of, stopped_case
from .test_objectivity import handled_and_rejected, review_task

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
