"""The inbox page: how many tasks each tab and the list say there are, with and without filters."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask, User
from server.services import cases
from server.services.actors import Actor

from .support.data import ACK, ASSESS, INTAKE


def _new_case() -> str:
    return cases.start_case(dict(INTAKE), "web", Actor.system("test")).case.reference


def _step(reference: str, values: dict, actor: Actor) -> None:
    db.session.rollback()
    task_id = db.session.scalar(select(HumanTask.task_id).join(Case).where(
        Case.reference == reference))
    cases.complete_task(reference, task_id, values, actor)


def _handler(username: str) -> Actor:
    user_id = db.session.scalar(select(User.id).where(User.username == username))
    return Actor(username, user_id, frozenset({"handler"}))


def _total(page: str) -> str | None:
    found = re.search(r"Page 1 of 1 · (\d+) tasks", page)
    return found.group(1) if found else None


def test_the_list_counts_the_views_tasks_and_a_filter_counts_only_what_it_keeps(
        client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    auth.add_user("omar", "handler")
    assessed, waiting, other = _new_case(), _new_case(), _new_case()
    hana, omar = _handler("hana"), _handler("omar")
    _step(assessed, ACK, hana)
    _step(assessed, ASSESS, hana)  # serious, not vulnerable: priority "high"; hana owns it
    _step(other, ACK, omar)  # omar's case: its next task is his

    page = client.get("/tasks?view=team").get_data(as_text=True)
    assert 'data-count="mine">1<' in page and 'data-count="unclaimed">1<' in page
    assert 'data-count="team">3<' in page and _total(page) == "3"
    assert assessed in page and waiting in page and other in page

    page = client.get("/tasks?view=mine").get_data(as_text=True)
    assert _total(page) == "1" and assessed in page and waiting not in page

    page = client.get("/tasks?view=team&priority=high").get_data(as_text=True)
    assert 'data-count="team">3<' in page  # the tabs count every task of the view
    assert _total(page) == "1" and assessed in page and waiting not in page


def test_the_second_page_lists_the_tasks_after_the_first_twenty_five(
        client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    references = [_new_case() for _ in range(27)]
    first = client.get("/tasks?view=unclaimed&sort=received").get_data(as_text=True)
    second = client.get("/tasks?view=unclaimed&sort=received&page=2").get_data(as_text=True)
    assert "Page 1 of 2 · 27 tasks" in first and "Page 2 of 2 · 27 tasks" in second
    assert all(r in first and r not in second for r in references[:25])
    assert all(r in second and r not in first for r in references[25:])
