"""A process owner previews a draft on recent cases before deploying it.

Olga changes the triage table so that a serious complaint is "medium" instead of "high",
and makes Investigate ask for a required customer reference. She starts a preview on
the recent cases from her draft: it runs in the background, and the report lists the
cases whose priority changes with the deadlines that move, the on-target share before
and predicted, and, as not replayable with the reason, the cases that already passed
Investigate without the new field. The preview writes nothing but its job row.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import func, inspect, select, text

from server.engine import clocks
from server.extensions import db
from server.models import Case, CaseEvent, ReplayJob, User
from server.services import calendar, cases, labels, policy, processes
from server.services.actors import Actor
from server.services.processes import draft_texts, drafts
from server.services.processes.replay_cases import recorded
from server.services.timers import sweep

from .support.cases import complete, file_case
from .support.data import ACK, ASSESS, INTAKE, INVESTIGATE, REMINDER, SECOND, START
from .support.process import runtime
from .support.wait import wait_for
from .support.web import AuthActions, post

NEW_FIELD = "customer_reference"
RECEIVED = datetime.fromisoformat(START) - timedelta(hours=1)  # recorded later by staff
ROW = re.compile(r'<tr>\s*<th scope="row"><bdi>(CMP-\d{4}-\d{6})</bdi></th>(.*?)</tr>', re.S)


def owner(username: str = "olga") -> Actor:
    """The process owner as the services see her."""
    user = db.session.scalar(select(User).where(User.username == username))
    return Actor.for_user(user)


def triage_changed_draft(actor: Actor) -> int:
    """Olga's draft: serious complaints are "medium"; Investigate needs a customer reference."""
    draft = drafts.edit_version(processes.active_version_id(), actor)
    files = draft.contents()
    dmn = files["triage.dmn"].decode()
    serious = '<outputEntry id="triage_serious_p"><text>"high"</text></outputEntry>'
    assert serious in dmn
    dmn = dmn.replace(serious, serious.replace('"high"', '"medium"'))
    schema = json.loads(files["investigate-schema.json"])
    schema["required"].append(NEW_FIELD)
    schema["properties"][NEW_FIELD] = {"type": "string", "title": "Customer reference",
                                       "minLength": 1}
    ui = json.loads(files["investigate-uischema.json"])
    ui["ui:order"].append(NEW_FIELD)
    drafts.save_file(draft.id, "triage.dmn", dmn.encode(), actor)
    drafts.save_file(draft.id, "investigate-schema.json", json.dumps(schema).encode(), actor)
    problems = drafts.save_file(draft.id, "investigate-uischema.json", json.dumps(ui).encode(),
                                actor)
    assert not problems, problems
    return draft.id


def digest() -> tuple[dict[str, int], str]:
    """Row counts of every table but the job's, and a digest of cases and their history."""
    db.session.rollback()
    tables = [t for t in inspect(db.engine).get_table_names()
              if t not in ("replay_job", "alembic_version")]
    counts = {t: db.session.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
              for t in tables}
    rows = [repr(tuple(r)) for r in db.session.execute(
        select(Case.id, Case.version, Case.priority, Case.workflow_state, Case.audit_head)
        .order_by(Case.id))]
    rows += [repr(tuple(r)) for r in db.session.execute(
        select(CaseEvent.id, CaseEvent.hash).order_by(CaseEvent.id))]
    db.session.rollback()
    return counts, hashlib.sha256("\n".join(rows).encode()).hexdigest()


def finished(client: FlaskClient, location: str) -> str:
    """The job page once the job no longer runs."""
    assert wait_for(lambda: 'id="replay-job" hx-get' not in client.get(location).get_data(
        as_text=True), 60)
    return client.get(location).get_data(as_text=True)


def flat(page: str) -> str:
    """A page's text as read."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_preview_lists_priority_and_deadline_changes_and_unreplayable_cases_and_writes_nothing(
        app: Flask, app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    draft_id = triage_changed_draft(owner())
    assessed = []
    for _ in range(3):
        reference = file_case()[0]
        complete(reference, "acknowledge", ACK)
        complete(reference, "assess", ASSESS)
        assessed.append(reference)
    investigated = file_case()[0]
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE)):
        complete(investigated, bpmn_id, values)
    untouched = file_case()[0]  # not assessed yet: the triage table has not run
    before = digest()

    page = client.get(f"/studio/drafts/{draft_id}/replay").get_data(as_text=True)
    assert "Preview on recent cases" in page
    started = post(client, f"/studio/drafts/{draft_id}/replay", {"last": "100"})
    assert started.status_code == 303
    report = finished(client, started.headers["Location"])
    text_ = flat(report)

    assert "Finished" in text_ and "5 cases replayed" in text_
    found = {ref: flat(row) for ref, row in ROW.findall(report)}
    for reference in assessed:
        assert "High → Medium" in found[reference], text_
        assert "→" in found[reference].split("Medium", 1)[1]  # a deadline that moves
    assert untouched not in found
    assert f"{investigated} : Investigate: Customer reference: This field is " \
        "required." in text_, text_
    assert re.search(r"Cases whose priority changes\s*</th><td>3<", report)
    assert re.search(r"Resolved on target</th>(<td>[^<]+</td>){2}", report)
    assert digest() == before
    job = db.session.scalar(select(ReplayJob))
    assert job is not None and job.status == "done" and job.done == job.total == 5


def test_only_process_owners_start_or_read_previews(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    draft_id = triage_changed_draft(owner())
    file_case()
    started = post(client, f"/studio/drafts/{draft_id}/replay", {"last": "5"})
    location = started.headers["Location"]
    finished(client, location)
    auth.logout()
    auth.login("hana", "handler")
    assert client.get(f"/studio/drafts/{draft_id}/replay").status_code == 403
    assert post(client, f"/studio/drafts/{draft_id}/replay", {"last": "5"}).status_code == 403
    assert client.get(location).status_code == 403
    auth.logout()
    auth.login("paul", "process_owner")  # another owner: neither her draft nor her report
    assert client.get(f"/studio/drafts/{draft_id}/replay").status_code == 404
    assert client.get(location).status_code == 404


def test_a_preview_needs_the_form_token_and_a_sensible_number(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    draft_id = triage_changed_draft(owner())
    forged = client.post(f"/studio/drafts/{draft_id}/replay", data={"last": "5"})
    assert forged.status_code == 400
    wrong = post(client, f"/studio/drafts/{draft_id}/replay", {"last": "9999999"})
    assert wrong.status_code == 422
    assert "Give a number of cases from 1 to 5000." in wrong.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReplayJob)) == 0


def test_a_job_whose_thread_died_is_shown_failed_and_another_may_start(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    actor = owner()
    draft_id = triage_changed_draft(actor)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    job = ReplayJob(draft_id=draft_id, draft_title="x", started_by_id=actor.user_id,
                    started_by=actor.name, status="running", started_at=long_ago,
                    heartbeat_at=long_ago, total=10)
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/studio/drafts/replays/{job.id}").get_data(as_text=True)
    assert "The preview failed" in page and "stopped without finishing" in page
    again = post(client, f"/studio/drafts/{draft_id}/replay", {"last": "5"})
    assert again.status_code == 303
    assert "Finished" in finished(client, again.headers["Location"])


def test_a_running_preview_of_the_same_draft_refuses_a_second(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    actor = owner()
    draft_id = triage_changed_draft(actor)
    job = ReplayJob(draft_id=draft_id, draft_title="x", started_by_id=actor.user_id,
                    started_by=actor.name, status="running", total=10)
    db.session.add(job)
    db.session.commit()
    second = post(client, f"/studio/drafts/{draft_id}/replay", {"last": "5"})
    assert second.status_code == 409
    assert "already running" in second.get_data(as_text=True)


def test_a_replay_clock_in_one_thread_leaves_engine_runs_in_another_on_real_time() -> None:
    rt = runtime()
    replay_at = datetime(2020, 1, 1, tzinfo=UTC)
    seen: dict[str, Any] = {}
    inside = threading.Event()
    done = threading.Event()

    def replaying() -> None:
        with clocks.bound(clocks.SetClock(replay_at)):
            seen["replay"] = clocks.now()
            _wf, replayed = rt.start({"complainant_name": "Rana", "description": "x",
                                      "channel": "web"})
            seen["timers"] = [t.due_at for t in replayed.timers]
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=replaying)
    thread.start()
    assert inside.wait(10)
    _workflow, snapshot = rt.start({"complainant_name": "Rana", "description": "x",
                                    "channel": "web"})
    done.set()
    thread.join()
    assert seen["replay"] == replay_at
    # The replay's own engine run counted from its recorded time...
    assert seen["timers"] and all(at < datetime(2021, 1, 1, tzinfo=UTC) for at in seen["timers"])
    # The engine run here saw the real time: its received_at and its timers are recent.
    assert abs(clocks.now() - datetime.now(UTC)) < timedelta(seconds=5)
    assert all(t.due_at > datetime.now(UTC) for t in snapshot.timers)
    assert snapshot.timers


def test_the_history_keeps_every_input_a_replay_needs(app_ctx: None) -> None:
    with time_machine.travel(START, tick=False) as clock:
        reference = cases.start_case(dict(INTAKE), "phone", Actor.system("test-intake"),
                                     received_at=RECEIVED).case.reference
        cases.send_message(reference, "complainant_adds_information",
                           {"information": "A receipt."}, Actor.system("complainant"))
        clock.move_to(REMINDER + SECOND)
        assert sweep().fired == 1  # the reminder to acknowledge
        clock.shift(timedelta(minutes=5))
        complete(reference, "acknowledge", ACK)
    case = cases.get_case(reference)
    events = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                     .order_by(CaseEvent.seq)))
    intake, inputs = recorded(case, events)
    assert datetime.fromisoformat(intake["received_at"]) == RECEIVED
    assert intake["complainant_name"] == INTAKE["complainant_name"]
    assert intake["channel"] == "phone"
    kinds = [(i.kind, i.name) for i in inputs]
    assert ("message", "complainant_adds_information") in kinds
    assert ("task", "acknowledge") in kinds
    message = next(i for i in inputs if i.kind == "message")
    assert message.values == {"information": "A receipt."}
    task = next(i for i in inputs if i.kind == "task")
    assert task.values == ACK
    timer = next(i for i in inputs if i.kind == "timer")
    assert timer.name and timer.at == REMINDER + SECOND < task.at  # when it fired


def test_a_what_if_target_moves_deadlines_in_the_preview_only(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    draft_id = drafts.edit_version(processes.active_version_id(), owner()).id  # unchanged
    reference = file_case()[0]
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", ASSESS)
    stored = policy.target_for("resolution", priority="high", category="billing")
    bad = post(client, f"/studio/drafts/{draft_id}/replay",
               {"last": "10", "whatif_kind": "resolution", "whatif_amount": "0",
                "whatif_unit": "working_days"})
    assert bad.status_code == 422
    assert "Give the what-if target as a deadline" in bad.get_data(as_text=True)
    started = post(client, f"/studio/drafts/{draft_id}/replay",
                   {"last": "10", "whatif_kind": "resolution", "whatif_amount": "60",
                    "whatif_unit": "working_days"})
    text_ = flat(finished(client, started.headers["Location"]))
    assert "as if the Resolution target were 60 working days" in text_
    row = dict((ref, flat(r)) for ref, r in ROW.findall(
        client.get(started.headers["Location"]).get_data(as_text=True)))[reference]
    assert row.startswith("High —")  # the same priority...
    assert "Resolution overdue" in row  # ...but the resolution deadline moves
    db.session.rollback()
    assert policy.target_for("resolution", priority="high", category="billing") == stored


def test_an_anonymised_history_still_gives_the_times_it_kept(app_ctx: None) -> None:
    reference = file_case()[0]
    case = cases.get_case(reference)
    at = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
    erased = SimpleNamespace(kind="timer.fired", at=at, actor="system:timer",
                             data=json.dumps({"timers": ["acknowledgement_reminder"],
                                              "fired_at": "[erased]"}))
    intake, [timer] = recorded(case, [*db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id)), erased])
    assert datetime.fromisoformat(intake["received_at"]) == case.received_at.replace(tzinfo=UTC)
    assert (timer.kind, timer.at) == ("timer", at)  # the row's own time stands in


def part(page: str, element_id: str) -> str:
    """The text of one element of a page (its table or list), as read."""
    found = re.search(rf'id="{element_id}"(.*?)</(table|ul)>', page, re.S)
    assert found, element_id
    return flat(found.group(1))


def test_the_same_report_reads_in_arabic_for_an_arabic_reader_and_in_english_otherwise(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    actor = owner()
    draft_id = triage_changed_draft(actor)
    draft_texts.save(draft_id, "ar", {"Customer reference": "مرجع العميل"}, actor)
    assessed = file_case()[0]
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS)):
        complete(assessed, bpmn_id, values)
    investigated = file_case()[0]
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE)):
        complete(investigated, bpmn_id, values)
    location = post(client, f"/studio/drafts/{draft_id}/replay",
                    {"last": "10"}).headers["Location"]
    english = finished(client, location)
    user = db.session.scalar(select(User).where(User.username == "olga"))
    assert user is not None
    user.language = "ar"
    db.session.commit()
    arabic = client.get(location).get_data(as_text=True)
    with force_locale("ar"):
        high, medium = labels.code("high"), labels.code("medium")
        required = gettext("This field is required.")
    assert high != "High" and required != "This field is required."

    # In English: English step titles, priority names and reasons.
    cases_en, refused_en = part(english, "replay-cases"), part(english, "replay-unreplayable")
    assert "High → Medium" in cases_en and "Resolution overdue" in cases_en
    assert "Investigate: Customer reference: This field is required." in refused_en
    assert high not in cases_en and "التحقيق" not in refused_en
    # The same stored report in Arabic: none of the English ones.
    cases_ar, refused_ar = part(arabic, "replay-cases"), part(arabic, "replay-unreplayable")
    assert f"{high} → {medium}" in cases_ar, cases_ar
    assert "تجاوز موعد الحل" in cases_ar  # the resolution deadline's step, in Arabic
    assert f"التحقيق: مرجع العميل: {required}" in refused_ar, refused_ar
    for english_text in ("High", "Medium", "Resolution overdue", "Investigate",
                         "Customer reference", "This field is required"):
        assert english_text not in cases_ar + refused_ar, english_text


def test_a_what_if_day_off_moves_a_deadline_in_the_preview_only(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("olga", "process_owner")
    draft_id = drafts.edit_version(processes.active_version_id(), owner()).id  # unchanged
    reference = file_case()[0]
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", ASSESS)
    case = cases.get_case(reference)
    due = policy.deadline("resolution", priority=case.priority, category=case.category,
                          since=case.received_at.replace(tzinfo=UTC))
    day_off = calendar.load().local_day(due).isoformat()  # the day the deadline falls on
    saved = (calendar.settings_form(), [repr(d) for d in calendar.list_dates()])
    before = digest()

    typed = {"last": "10", "whatif_closed": f"{day_off}, 2026-02-30", "whatif_opens": "09:00",
             "whatif_closes": "17:00"}
    bad = post(client, f"/studio/drafts/{draft_id}/replay", typed)
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "“2026-02-30” is not a date" in page
    assert f"{day_off}, 2026-02-30</textarea>" in page and 'value="09:00"' in page  # kept
    late = post(client, f"/studio/drafts/{draft_id}/replay",
                {"last": "10", "whatif_opens": "17:00", "whatif_closes": "09:00"})
    assert late.status_code == 422
    assert "The closing time must be after the opening time." in late.get_data(as_text=True)

    as_is = flat(finished(client, post(client, f"/studio/drafts/{draft_id}/replay",
                                       {"last": "10"}).headers["Location"]))
    assert "The draft changes none of these cases." in as_is
    location = post(client, f"/studio/drafts/{draft_id}/replay",
                    {"last": "10", "whatif_closed": day_off}).headers["Location"]
    report = finished(client, location)
    assert f"as if the calendar were changed (for this preview only): closed on {day_off}" \
        in flat(report)
    row = dict((ref, flat(r)) for ref, r in ROW.findall(report))[reference]
    assert "Resolution overdue" in row and "→" in row
    assert re.search(r"Cases whose deadlines move\s*</th><td>1<", report)
    db.session.rollback()
    assert (calendar.settings_form(), [repr(d) for d in calendar.list_dates()]) == saved
    assert digest() == before
