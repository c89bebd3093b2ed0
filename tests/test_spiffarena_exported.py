"""A model exported from SpiffArena, as it is, uploads to the studio as a ZIP and runs.

The fixture (tests/fixtures/spiffarena/exported) is one folder with process_model.json, as
SpiffArena exports a process model. It has every construct issue 16 names at once: no intake
form (the default intake applies), no lanes (the version's default role works the tasks), a
script using datetime and timedelta, a service task answered by a real connector proxy on
loopback, a form with react-jsonschema-form UI keys, a nested group and repeatable rows, a
DMN decision, and a manual task whose instructions are filled in from the task data.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask
from server.services import processes, service_calls

from .support.connector_proxy import Proxy, connector_proxy, ok
from .support.web import AuthActions, file_complaint, submit
from .test_spiffarena_forms import TRIAGE
from .test_studio import deploy, draft_of, upload

FIXTURE = Path(__file__).parent / "fixtures" / "spiffarena" / "exported"


@pytest.fixture
def crm(app: Flask) -> Iterator[Proxy]:
    """The organisation's CRM behind a connector proxy, configured for the app."""
    answer = lambda params: ok({"tier": "gold", "name": params.get("name")})  # noqa: E731
    with connector_proxy({"crm/LookupCustomer": answer}) as proxy:
        app.config["PLAINT_CONNECTOR_PROXIES"] = (proxy.url,)
        yield proxy


def exported_zip() -> bytes:
    """The fixture zipped as SpiffArena exports a process model: one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE.iterdir()):
            archive.writestr(f"exported-complaint/{path.name}", path.read_bytes())
    return buffer.getvalue()


def the_case(reference: str) -> Case:
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    return case


def ready_task(reference: str) -> tuple[str, str]:
    """The case's one ready task: its page and its title."""
    case = the_case(reference)
    [(task_id, title)] = db.session.execute(select(HumanTask.task_id, HumanTask.title)
                                            .where(HumanTask.case_id == case.id)).all()
    return f"/cases/{reference}/tasks/{task_id}", title


def text_of(html: str) -> str:
    """A page's words, tags and spacing left out, entities as they are escaped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_an_exported_model_uploads_as_a_zip_and_runs_to_its_end(
        app: Flask, app_ctx: None, auth: AuthActions, crm: Proxy) -> None:
    owner = auth.signed_in("olga", "process_owner")
    done = deploy(owner, draft_of(upload(owner, ("exported-complaint.zip", exported_zip()))))
    assert done.status_code == 200, [p["message"] for p in done.get_json()["problems"]]
    version = processes.active_version_id()

    # The public form is the organisation's intake: the model has none of its own.
    reference, _ = file_complaint(app.test_client(), complainant_name="Layla Haddad",
                                  description="I was charged twice for the same transfer.")
    case = the_case(reference)
    assert case.process_version_id == version and case.is_open
    assert service_calls.run_due().done == 1
    assert [name for name, _ in crm.calls] == ["crm/LookupCustomer"]

    # No lanes: the default role (handler) works the form task, its instructions filled in.
    handler = auth.signed_in("hana", "handler")
    path, title = ready_task(reference)
    assert title == "Triage complaint"
    page = text_of(handler.get(path).get_data(as_text=True))
    answer_by = (date.today() + timedelta(days=5)).isoformat()
    assert f"Layla Haddad is a gold customer: answer by {answer_by}." in page
    assert "Transaction 1 of 1" in page and "Billing and fees" in page  # rows, ui:enumNames
    sent = submit(handler, path, TRIAGE)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]

    # The DMN set the priority; the manual task says what to do with the data, then Done.
    path, title = ready_task(reference)
    assert title == "Call the customer"
    page = handler.get(path).get_data(as_text=True)
    assert "Call Layla Haddad on +44 20 7946 0000 about 2 transaction(s); priority high." \
        in text_of(page)
    assert ">Done</button>" in page
    sent = submit(handler, path, {})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]

    case = the_case(reference)
    assert not case.is_open
    data: dict[str, Any] = processes.runtime_for(version).data_of(case.workflow_state)
    assert data["received_on"] == date.today().isoformat() and data["answer_by"] == answer_by
    assert data["customer"]["body"]["tier"] == "gold" and data["priority"] == "high"
    assert data["contact"]["callback"]["phone"] == "+44 20 7946 0000"
    assert [row["amount"] for row in data["transactions"]] == [12.5, 12.5]
