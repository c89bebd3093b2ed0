"""A named owner for every case (ISO 10002 accountability), and an inbox that opens on work.

The handler who takes a case's first task owns it; the case's later tasks of their role
land in their inbox without a claim; supervisors change the owner with a reason the
history keeps. The inbox tabs count their tasks, the inbox opens where work waits, and the
category filter speaks the form's words.
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask, ProcessFile, ProcessVersion, User
from server.services import cases, users
from server.services.actors import Actor
from server.services.processes import deploy, read_folders
from tests.support.data import ACK, ASSESS, INTAKE, INVESTIGATE
from tests.support.process import REPO
from tests.support.web import post, submit

OWNS = "now owns the case"


def form(values: dict) -> dict[str, str]:
    """Values as a browser sends them."""
    return {k: {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)
            for k, v in values.items()}


def new_case() -> str:
    return cases.start_case(dict(INTAKE), "web", Actor.system("test")).case.reference


def task(reference: str, bpmn_id: str) -> HumanTask:
    db.session.rollback()
    found = db.session.scalar(select(HumanTask).join(Case).where(
        Case.reference == reference, HumanTask.bpmn_id == bpmn_id))
    assert found is not None, f"{bpmn_id} is not waiting on {reference}"
    return found


def path(reference: str, bpmn_id: str) -> str:
    return f"/cases/{reference}/tasks/{task(reference, bpmn_id).task_id}"


def owner_of(reference: str) -> str | None:
    db.session.rollback()
    case = cases.get_case(reference)
    return case.owner.username if case.owner else None


def user_id(username: str) -> int:
    found = db.session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def rows(page: str) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", page, re.S)


def test_the_handler_who_claims_the_first_task_owns_the_case(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    reference = new_case()
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Nobody yet" in page

    claimed = post(client, f"{path(reference, 'acknowledge')}/claim", {"back": "/tasks"})
    assert claimed.status_code == 302
    assert owner_of(reference) == "hana"
    page = html.unescape(client.get(f"/cases/{reference}").get_data(as_text=True))
    owner = page[page.index('id="case-owner"'):]
    assert owner.startswith('id="case-owner"><bdi>Hana</bdi>')
    assert f"Acknowledge complaint taken by hana; hana {OWNS}" in page


def test_the_owners_later_tasks_land_in_their_inbox_without_a_claim(client, auth, app_ctx) -> None:
    auth.add_user("omar", "handler")
    auth.login("hana", "handler")
    omar = auth.signed_in("omar")
    reference = new_case()
    # Completing the first task without claiming it makes hana the owner too.
    assert submit(client, path(reference, "acknowledge"), form(ACK)).status_code == 302
    assert owner_of(reference) == "hana"
    assert task(reference, "assess").assignee_id == user_id("hana")
    mine = client.get("/tasks?view=mine").get_data(as_text=True)
    [row] = [r for r in rows(mine) if reference in r]
    assert "Assess complaint" in row and "Hana" in row
    assert reference not in omar.get("/tasks?view=unclaimed").get_data(as_text=True)

    assert submit(client, path(reference, "assess"), form(ASSESS)).status_code == 302
    assert task(reference, "investigate").assignee_id == user_id("hana")
    # Taking a later task does not make a colleague the owner.
    post(client, f"{path(reference, 'investigate')}/release")
    post(omar, f"{path(reference, 'investigate')}/claim")
    assert task(reference, "investigate").assignee_id == user_id("omar")
    assert owner_of(reference) == "hana"


def test_tasks_of_other_roles_do_not_follow_the_owner(client, auth, app_ctx) -> None:
    auth.login("sam", "handler", "supervisor")
    reference = new_case()
    for bpmn_id, values in (("acknowledge", ACK),
                            ("assess", {**ASSESS, "immediate_action_needed": True})):
        assert submit(client, path(reference, bpmn_id), form(values)).status_code == 302
    assert owner_of(reference) == "sam"
    assert task(reference, "immediate_action").assignee_id is None  # a supervisor's task


def test_a_supervisor_changes_the_owner_with_a_reason_and_the_tasks_move(
        client, auth, app_ctx) -> None:
    auth.add_user("omar", "handler")
    auth.add_user("hana", "handler")
    hana = auth.signed_in("hana")
    reference = new_case()
    assert submit(hana, path(reference, "acknowledge"), form(ACK)).status_code == 302
    auth.login("sara", "supervisor")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    owners = page.split('id="new-owner"')[1].split("</select>")[0]  # the owner list
    assert '<option value="omar">Omar (omar)</option>' in owners
    assert 'value="hana"' not in owners  # already the owner

    refused = post(client, f"/cases/{reference}/owner", {"owner": "omar", "reason": "  "})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Say why the case changes owner." in text and 'value="omar" selected' in text
    assert owner_of(reference) == "hana"

    changed = post(client, f"/cases/{reference}/owner",
                   {"owner": "omar", "reason": "Hana is on leave for two weeks."},
                   follow_redirects=True)
    assert changed.status_code == 200
    page = html.unescape(changed.get_data(as_text=True))
    assert "Omar now owns the case." in page
    assert "Owner changed from hana to omar by sara" in page
    assert "Hana is on leave for two weeks." in page
    assert owner_of(reference) == "omar"
    assert task(reference, "assess").assignee_id == user_id("omar")
    omar = auth.signed_in("omar")
    assert reference in omar.get("/tasks?view=mine").get_data(as_text=True)
    assert reference not in hana.get("/tasks?view=mine").get_data(as_text=True)


def test_a_handler_cannot_change_the_owner(client, auth, app_ctx) -> None:
    auth.add_user("omar", "handler")
    auth.login("hana", "handler")
    reference = new_case()
    assert submit(client, path(reference, "acknowledge"), form(ACK)).status_code == 302
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Change owner" not in page
    answer = post(client, f"/cases/{reference}/owner", {"owner": "omar", "reason": "Mine now"})
    assert answer.status_code == 403
    assert owner_of(reference) == "hana"


def _investigation_excludes_the_assessor() -> None:
    """A version whose investigation may not be done by whoever assessed the case."""
    files = read_folders(REPO / "workflows", REPO / "forms")
    marker = b'<spiffworkflow:property name="statusLabel" value="Under investigation" />'
    assert marker in files["complaint.bpmn"]
    files["complaint.bpmn"] = files["complaint.bpmn"].replace(
        marker, marker + b'\n          <spiffworkflow:property name="notPerformedBy" '
                         b'value="assess" />')
    deploy(files, Actor.system("test"))


def test_a_task_objectivity_refuses_the_owner_waits_unclaimed(client, auth, app_ctx) -> None:
    _investigation_excludes_the_assessor()
    auth.add_user("omar", "handler")
    auth.login("hana", "handler")
    reference = new_case()
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS)):
        assert submit(client, path(reference, bpmn_id), form(values)).status_code == 302
    assert owner_of(reference) == "hana"
    assert task(reference, "investigate").assignee_id is None
    omar = auth.signed_in("omar")
    assert "Investigate" in omar.get("/tasks?view=unclaimed").get_data(as_text=True)
    assert submit(omar, path(reference, "investigate"), form(INVESTIGATE)).status_code == 302
    assert task(reference, "respond").assignee_id == user_id("hana")  # back to the owner


def test_a_deactivated_owner_gets_no_new_tasks(client, auth, app_ctx) -> None:
    auth.add_user("hana", "handler")
    hana = auth.signed_in("hana")
    reference = new_case()
    assert submit(hana, path(reference, "acknowledge"), form(ACK)).status_code == 302
    owner = user_id("hana")
    users.update_user("hana", "Hana", None, ["handler"], False, Actor.system("admin"))
    auth.login("omar", "handler")
    assert submit(client, path(reference, "assess"), form(ASSESS)).status_code == 403  # hana's
    cases.complete_task(reference, task(reference, "assess").task_id, ASSESS,
                        Actor("hana", owner, frozenset({"handler"})))
    assert task(reference, "investigate").assignee_id is None
    assert reference in client.get("/tasks?view=unclaimed").get_data(as_text=True)


def test_the_tabs_count_and_the_inbox_opens_where_work_waits(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    first, second = new_case(), new_case()
    page = client.get("/tasks").get_data(as_text=True)
    # Nothing of hers yet: the inbox opens on the unclaimed tasks.
    assert re.search(r'active" aria-current="page" href="/tasks\?view=unclaimed"', page)
    assert 'data-count="mine">0<' in page and 'data-count="unclaimed">2<' in page
    assert first in page and second in page

    assert submit(client, path(first, "acknowledge"), form(ACK)).status_code == 302
    page = client.get("/tasks").get_data(as_text=True)
    assert re.search(r'active" aria-current="page" href="/tasks\?view=mine"', page)
    assert 'data-count="mine">1<' in page and 'data-count="unclaimed">1<' in page
    assert 'data-count="team">2<' in page
    assert first in page and second not in page


def test_the_category_filter_uses_the_titles_people_see(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    billing, delay = new_case(), new_case()
    for reference, category in ((billing, "billing"), (delay, "delay")):
        for bpmn_id, values in (("acknowledge", ACK), ("assess", {**ASSESS,
                                                                  "category": category})):
            assert submit(client, path(reference, bpmn_id), form(values)).status_code == 302
    page = client.get("/tasks?view=mine").get_data(as_text=True)
    assert '<option value="billing">Billing and charges</option>' in page
    assert '<option value="staff_conduct">Staff conduct</option>' in page
    assert "<td>Billing and charges</td>" in page and "<td>billing</td>" not in page

    # The code a link carries, or the words one types.
    for asked in ("billing", "BILLING and charges"):
        found = client.get(f"/tasks?view=mine&category={asked}").get_data(as_text=True)
        assert billing in found and delay not in found
        assert '<option value="billing" selected>Billing and charges</option>' in found


def test_the_category_titles_come_from_the_form_that_asks_it(client, auth, app_ctx) -> None:
    # Labelled choices (oneOf of constants with titles) as a form declares them; the
    # deploy checks of this branch do not take them yet, so the form joins the version
    # directly, as a deployed one would.
    titled = {"type": "object", "properties": {"category": {"type": "string", "oneOf": [
        {"const": "billing", "title": "Billing and charges"},
        {"const": "fraud", "title": "Fraud and scams"}]}}}
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    content = json.dumps(titled).encode()
    db.session.add(ProcessFile(version_id=version.id, name="titled-schema.json", kind="form",
                               content=content, sha256=hashlib.sha256(content).hexdigest()))
    db.session.commit()
    auth.login("hana", "handler")
    reference = new_case()
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS)):
        assert submit(client, path(reference, bpmn_id), form(values)).status_code == 302
    page = client.get("/tasks?category=billing and CHARGES").get_data(as_text=True)
    assert '<option value="billing" selected>Billing and charges</option>' in page
    # A code the administered list lacks takes the form's title.
    assert '<option value="fraud">Fraud and scams</option>' in page
    assert reference in page and "<td>Billing and charges</td>" in page
