"""Every user task has a due time: from its boundary timer, or from the diagram's `dueIn`
evaluated once when the task becomes ready; a bad `dueIn` is refused at deploy."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from server.engine import BundleError, load_bundle
from server.engine import runtime as engine_runtime
from server.extensions import db
from server.models import HumanTask

from . import test_process_paths as paths
from .support.cases import complete, file_case, ready_task
from .support.data import ACK, START
from .support.process import Driver, reference_bpmn, resolve, with_bpmn
from .support.process import bundle as load
from .support.web import AuthActions, post

# --- the engine: every path of the reference process ------------------------------------------


def _path_runs() -> Iterator[tuple[str, Callable[..., None], dict[str, Any]]]:
    """Each path test of test_process_paths with its first parameters, state saved between steps."""
    for name, fn in vars(paths).items():
        if not name.startswith("test_") or not inspect.isfunction(fn):
            continue
        kwargs: dict[str, Any] = {}
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize":
                names = [n.strip() for n in mark.args[0].split(",")]
                first = mark.args[1][0]
                kwargs.update(zip(names, first if len(names) > 1 else (first,), strict=True))
        if "round_trip" in kwargs:
            kwargs["round_trip"] = True  # the due time must survive saving the case
        yield name, fn, kwargs


PATHS = list(_path_runs())


@pytest.fixture
def without_due(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ready user tasks that any engine run leaves without a due time."""
    missing: list[str] = []
    read = engine_runtime.read_snapshot

    def checked(*args: Any, **kwargs: Any) -> Any:
        snapshot = read(*args, **kwargs)
        missing.extend(t.bpmn_id for t in snapshot.ready if t.due_at is None)
        return snapshot

    monkeypatch.setattr(engine_runtime, "read_snapshot", checked)
    return missing


@pytest.mark.parametrize("name,path,kwargs", PATHS, ids=[p[0] for p in PATHS])
def test_every_ready_user_task_on_every_path_has_a_due_time(
        without_due: list[str], name: str, path: Callable[..., None],
        kwargs: dict[str, Any]) -> None:
    path(**kwargs)
    assert without_due == []


def test_a_due_time_is_fixed_when_the_task_becomes_ready(without_due: list[str]) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip=True)
        d.complete("acknowledge", ACK)
        [assess] = d.snapshot.ready
        # The reference diagram: Assess is due at the response target (72 h in these tests).
        assert assess.due_at == datetime.fromisoformat(START) + timedelta(hours=72)
        clock.shift(timedelta(hours=5))
        d.message("complainant_adds_information", {"information": "A receipt."})
        due = {t.bpmn_id: t.due_at for t in d.snapshot.ready}
        assert due["assess"] == assess.due_at  # not evaluated again on a later run
        # Reviewing what the complainant added: two working days (round the clock here).
        assert due["review_information"] == datetime.fromisoformat(START) + timedelta(
            hours=5, days=2)
    assert without_due == []


# --- the pages: the due time is shown and flagged like any other --------------------------------


def test_assess_shows_its_due_time_and_turns_overdue_in_the_inbox(
        client: FlaskClient, auth: AuthActions, app_ctx: None) -> None:
    with time_machine.travel(START, tick=False) as clock:
        reference, _token = file_case()
        complete(reference, "acknowledge", ACK)
        task_id = ready_task(reference, "assess")
        due = db.session.scalar(select(HumanTask.due_at).where(HumanTask.task_id == task_id))
        # Received Sunday 12:00 Riyadh; the response target is 3 working days.
        assert due == datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
        auth.login("hana", "handler")
        page = client.get(f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
        assert "Due: —" not in page and "2026-05-06T09:00:00+00:00" in page
        assert "On time" in _inbox_row(client, reference)
        clock.move_to(due + timedelta(minutes=1))
        assert "Overdue" in _inbox_row(client, reference)


def _inbox_row(client: FlaskClient, reference: str) -> str:
    page = client.get("/tasks?view=unclaimed").get_data(as_text=True)
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(reference)}(?:(?!</tr>).)*</tr>",
                    page, re.S)
    assert row, page[:3000]
    return row.group(0)


# --- deploy checks ------------------------------------------------------------------------------

ASSESS_DUE = "<spiffworkflow:property name=\"dueIn\" value=\"deadline('response')\" />"


def _with_due(value: str) -> dict[str, bytes]:
    text = reference_bpmn()
    assert ASSESS_DUE in text
    return with_bpmn(text.replace(ASSESS_DUE,
                                  f'<spiffworkflow:property name="dueIn" value="{value}" />'))


@pytest.mark.parametrize("value,said", [
    ("working_days(", "dueIn of 'Assess complaint' is refused"),
    ("__import__('os')", "dueIn of 'Assess complaint' is refused"),
    ("'two days'", "dueIn 'two days' is not an ISO 8601 time with a UTC offset or a duration"),
    ("'2026-05-06T09:00:00'", "not an ISO 8601 time with a UTC offset"),
    ("", "dueIn of 'Assess complaint' is empty"),
])
def test_a_malformed_due_in_is_refused_naming_the_task(value: str, said: str) -> None:
    with pytest.raises(BundleError) as refused:
        load(_with_due(value))
    messages = [str(issue) for issue in refused.value.issues]
    assert any(said in m and "[assess]" in m for m in messages), messages


def test_a_due_in_with_an_unknown_deadline_kind_is_refused() -> None:
    with pytest.raises(BundleError) as refused:
        load_bundle(_with_due("deadline('answer')"), resolve,
                    clock_kinds=("acknowledge", "response", "resolution"))
    assert any("'answer' in dueIn of 'Assess complaint' is not a deadline kind" in str(i)
               for i in refused.value.issues)


def test_due_in_on_something_other_than_a_user_task_is_refused() -> None:
    text = reference_bpmn().replace(
        '<spiffworkflow:property name="notify" value="acknowledgement" />',
        '<spiffworkflow:property name="notify" value="acknowledgement" />'
        '<spiffworkflow:property name="dueIn" value="working_days(1)" />')
    with pytest.raises(BundleError) as refused:
        load(with_bpmn(text))
    assert any("dueIn is read on user tasks only" in str(i) and "[register]" in str(i)
               for i in refused.value.issues)


def test_the_studio_refuses_a_malformed_due_in_with_a_clear_message(
        auth: AuthActions, app_ctx: None) -> None:
    owner = auth.signed_in("olga", "process_owner")
    edit = post(owner, "/studio/versions/1/edit")
    draft = int(re.fullmatch(r"/studio/drafts/(\d+)", edit.headers["Location"]).group(1))
    page = owner.get("/studio/").get_data(as_text=True)
    headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    text = _with_due("working_days(2")["complaint.bpmn"]
    assert owner.put(f"/studio/drafts/{draft}/files/complaint.bpmn", data=text,
                     headers=headers).status_code == 200
    refused = owner.post(f"/studio/drafts/{draft}/deploy", json={"comment": "due"},
                         headers=headers)
    assert refused.status_code == 422
    [problem] = refused.get_json()["problems"]
    assert problem["element_id"] == "assess" and problem["file"] == "complaint.bpmn"
    assert "dueIn of 'Assess complaint' is refused" in problem["message"]
