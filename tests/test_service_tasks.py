"""Service tasks through SpiffArena's connector-proxy protocol, against a real proxy on loopback.

A case that reaches a service task waits; the call is written with the step and made
afterwards by the worker, outside any transaction; its result lands in the task data
under resultVariable and the case goes on. Failures that may pass are retried with
back-off; one that will not pass, or the last try, stops the case on an incident.
"""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from server.errors import DeployRefused
from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, Incident, OutboxMessage, ServiceCall, utcnow
from server.services import audit, cases, processes, service_calls, timers
from server.services.actors import Actor
from server.services.processes.replay_cases import recorded

from .support.connector_proxy import Proxy, connector_proxy, failing, ok
from .support.web import AuthActions, file_complaint, post, submit
from .test_studio import deploy as studio_deploy
from .test_studio import draft_of, upload

FIXTURE = Path(__file__).parent / "fixtures" / "spiffarena" / "service"
BPMN = "customer-lookup.bpmn"
INTAKE = {"complainant_name": "Layla Haddad",
          "description": "I was charged twice for the same transfer."}
LATER = timedelta(days=1)  # past any retry wait
ME = Actor.system("test")


def files(**replaced: str) -> dict[str, bytes]:
    """The fixture's bundle, with texts of the diagram replaced (old=new)."""
    found = {p.name: p.read_bytes() for p in FIXTURE.iterdir() if p.name != "process_model.json"}
    text = found[BPMN].decode()
    for old, new in replaced.items():
        text = text.replace(old, new)
    found[BPMN] = text.encode()
    return found


def customer(params: dict[str, Any]) -> tuple[int, Any]:
    """The CRM's answer: the customer's tier."""
    return ok({"tier": "gold", "name": params.get("name")})


@pytest.fixture
def crm(app: Flask) -> Any:
    """A connector proxy offering crm/LookupCustomer, configured for the app."""
    with connector_proxy({"crm/LookupCustomer": customer}) as proxy:
        app.config["PLAINT_CONNECTOR_PROXIES"] = (proxy.url,)
        yield proxy


def the_case(reference: str) -> Case:
    db.session.rollback()
    return db.session.scalar(select(Case).where(Case.reference == reference))


def calls_of(case: Case) -> list[ServiceCall]:
    db.session.rollback()
    return list(db.session.scalars(select(ServiceCall).where(ServiceCall.case_id == case.id)
                                   .order_by(ServiceCall.id)))


def tasks_of(case: Case) -> list[HumanTask]:
    db.session.rollback()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)))


def data_of(case: Case) -> dict[str, Any]:
    return processes.runtime_for(case.process_version_id).data_of(case.workflow_state)


def start(**intake: str) -> Case:
    """A case filed through the services."""
    return the_case(cases.start_case({**INTAKE, **intake}, "web", ME).case.reference)


# -- deploy --------------------------------------------------------------------------------

def test_deploy_accepts_operators_a_proxy_offers_and_refuses_one_nobody_offers(
        app: Flask, app_ctx: None, crm: Proxy) -> None:
    version = processes.deploy(files(), ME)
    assert version.is_active and crm.listings == 1  # asked for its commands

    with pytest.raises(DeployRefused) as refused:
        processes.deploy(files(**{"crm/LookupCustomer": "crm/DeleteEverything"}), ME)
    [issue] = refused.value.issues
    assert issue.element_id == "Activity_lookup" and issue.file == BPMN
    assert "'crm/DeleteEverything' is offered by no connector proxy" in issue.message
    assert crm.url in issue.message and "plaint/HttpRequest" in issue.message


def test_a_proxy_that_cannot_be_reached_is_a_clear_deploy_error(app: Flask, app_ctx: None,
                                                                 crm: Proxy) -> None:
    app.config["PLAINT_CONNECTOR_PROXIES"] = (crm.url, "http://127.0.0.1:9")
    with pytest.raises(DeployRefused) as refused:
        processes.deploy(files(), ME)
    [issue] = refused.value.issues
    assert "the connector proxy http://127.0.0.1:9 could not be asked for its operators" \
        in issue.message and "PLAINT_CONNECTOR_PROXIES" in issue.message


def test_plaints_own_operators_deploy_without_any_proxy(app: Flask, app_ctx: None) -> None:
    app.config["PLAINT_CONNECTOR_PROXIES"] = ()
    with pytest.raises(DeployRefused):
        processes.deploy(files(), ME)  # crm/LookupCustomer: no proxy offers it
    version = processes.deploy(files(**{"crm/LookupCustomer": "plaint/HttpRequest"}), ME)
    assert version.is_active


# -- running a case over HTTP, deployed by the CLI and by the studio -------------------------

@pytest.mark.parametrize("door", ["cli", "studio"])
def test_a_spiffarena_model_with_service_tasks_runs_to_its_end_over_http(
        app: Flask, app_ctx: None, auth: AuthActions, runner: FlaskCliRunner, crm: Proxy,
        tmp_path: Path, door: str) -> None:
    if door == "cli":
        folder = tmp_path / "service"
        shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("process_model.json"))
        result = runner.invoke(args=["deploy", str(folder)])
        assert result.exit_code == 0, result.output
    else:
        owner = auth.signed_in("olga", "process_owner")
        zipped = _zip_fixture()
        done = studio_deploy(owner, draft_of(upload(owner, ("customer-lookup.zip", zipped))))
        assert done.status_code == 200, done.get_json()
    crm.calls.clear()

    reference, _link = file_complaint(app.test_client(), **INTAKE)
    case = the_case(reference)
    # The step that reached the service task made no call; it wrote one down.
    [call] = calls_of(case)
    assert (call.operator, call.status, crm.calls) == ("crm/LookupCustomer", "pending", [])
    assert tasks_of(case) == [] and case.is_open

    assert service_calls.run_due().done == 1
    [(operator, params)] = crm.calls
    assert operator == "crm/LookupCustomer"
    assert params["name"] == "Layla Haddad" and params["channel"] == "complaints"
    case = the_case(reference)
    assert data_of(case)["customer"]["body"] == {"tier": "gold", "name": "Layla Haddad"}
    # The history keeps the result: a preview by replay gives it back instead of calling.
    [service] = [i for i in recorded(case, list(audit.history(case)))[1] if i.kind == "service"]
    assert service.has_result and service.values["body"] == {"tier": "gold",
                                                             "name": "Layla Haddad"}
    [task_id] = [t.task_id for t in tasks_of(case)]
    handler = auth.signed_in("hana", "handler")
    page = handler.get(f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
    assert "Review the complaint" in page
    done = submit(handler, f"/cases/{reference}/tasks/{task_id}", {"decision": "uphold"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]

    # plaint/SendEmail: the e-mail goes to the outbox in the step that finishes the task.
    assert the_case(reference).is_open
    made = runner.invoke(args=["call-services"])
    assert "Made 1 service call(s): 1 done" in made.output, made.output
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.event == "service_task"))
    assert (mail.recipient, mail.subject) == ("team@example.com", "Complaint from Layla Haddad")
    assert "Tier gold, decision: uphold" in mail.body_text
    case = the_case(reference)
    assert not case.is_open
    assert [c.status for c in calls_of(case)] == ["done", "done"]
    # The history says what the service tasks did, in the reader's language too.
    assert post(handler, "/account", {"language": "ar"}).status_code == 302
    history = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert "اكتملت مهمة الخدمة: Look up the customer" in history


def _zip_fixture() -> bytes:
    """The fixture zipped as SpiffArena exports a process model: one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE.iterdir()):
            archive.writestr(f"customer-lookup/{path.name}", path.read_bytes())
    return buffer.getvalue()


# -- retries and incidents -----------------------------------------------------------------

def test_a_proxy_that_fails_twice_then_answers_is_retried_with_back_off(
        app: Flask, app_ctx: None, crm: Proxy) -> None:
    answers = [failing(), failing(503)]
    crm.operators["crm/LookupCustomer"] = \
        lambda params: answers.pop(0) if answers else customer(params)
    processes.deploy(files(), ME)
    case = start()

    assert service_calls.run_due().retrying == 1
    [call] = calls_of(case)
    assert call.status == "pending" and call.attempts == 1 and "the CRM is down" in call.last_error
    assert call.next_attempt_at > utcnow()  # waits before the next try
    assert service_calls.run_due().claimed == 0  # not due yet
    assert service_calls.run_due(now=utcnow() + LATER).retrying == 1
    assert service_calls.run_due(now=utcnow() + 2 * LATER).done == 1
    assert len(crm.calls) == 3
    [call] = calls_of(case)
    assert (call.status, call.attempts) == ("done", 3)
    assert [t.bpmn_id for t in tasks_of(case)] == ["Activity_review"]
    assert db.session.scalar(select(Incident).where(Incident.case_id == case.id)) is None


def test_a_proxy_that_always_fails_stops_the_case_on_an_incident_that_a_retry_clears(
        app: Flask, app_ctx: None, auth: AuthActions, crm: Proxy) -> None:
    app.config["PLAINT_SERVICE_MAX_ATTEMPTS"] = 3
    crm.operators["crm/LookupCustomer"] = lambda params: failing()
    processes.deploy(files(), ME)
    case = start()
    for day in range(3):
        service_calls.run_due(now=utcnow() + day * LATER)
    assert len(crm.calls) == 3
    db.session.rollback()
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert incident.is_open and incident.source == "service"
    assert incident.element_id == "Activity_lookup"
    assert "'Look up the customer' (operator crm/LookupCustomer) failed after 3 attempts" \
        in incident.error and "UpstreamDown: the CRM is down" in incident.error
    assert db.session.scalar(select(CaseEvent.kind).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "incident.opened")) is not None
    assert service_calls.run_due(now=utcnow() + 9 * LATER).claimed == 0  # it stopped trying
    assert tasks_of(case) == []

    incident_id, reference = incident.id, case.reference
    admin = auth.signed_in("root", "admin")
    assert post(admin, f"/incidents/{incident_id}/retry").status_code == 302
    page = admin.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "The service call failed again" in page  # still down: one more try, still open
    assert len(crm.calls) == 4
    db.session.rollback()
    assert db.session.get(Incident, incident_id).is_open

    crm.operators["crm/LookupCustomer"] = customer  # the CRM is back
    assert post(admin, f"/incidents/{incident_id}/retry").status_code == 302
    db.session.rollback()
    assert not db.session.get(Incident, incident_id).is_open
    assert [t.bpmn_id for t in tasks_of(the_case(reference))] == ["Activity_review"]


# -- Plaint's own HTTP operator ---------------------------------------------------------------

def test_the_http_operator_calls_only_allowed_hosts_and_public_or_allowed_addresses(
        app: Flask, app_ctx: None) -> None:
    with connector_proxy({}) as site:
        site.pages["/customers/layla"] = {"tier": "silver"}
        url = f"{site.url}/customers/layla"
        processes.deploy(files(**{
            'id="crm/LookupCustomer"': 'id="plaint/HttpRequest"',
            'id="name" type="str" value="complainant_name"':
                f'id="url" type="str" value="&quot;{url}&quot;"'}), ME)

        def incident_after_one_try() -> str:
            case = start()
            service_calls.run_due()
            db.session.rollback()
            return db.session.scalar(select(Incident.error).where(Incident.case_id == case.id))

        app.config["PLAINT_HTTP_ALLOWED_HOSTS"] = ("crm.example.com",)
        assert "the host '127.0.0.1' is not one Plaint's HTTP operator may call" \
            in incident_after_one_try()
        app.config["PLAINT_HTTP_ALLOWED_HOSTS"] = ("127.0.0.1",)
        assert "has the address 127.0.0.1, which is not public" in incident_after_one_try()
        assert site.visits == []  # neither reached the server

        app.config["PLAINT_HTTP_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)
        case = start()
        assert service_calls.run_due().done == 1
        assert site.visits == ["/customers/layla"]
        case = the_case(case.reference)
        got = data_of(case)["customer"]
        assert got["body"] == {"tier": "silver"} and got["http_status"] == 200
        assert [t.bpmn_id for t in tasks_of(case)] == ["Activity_review"]


def test_a_proxy_that_does_not_answer_in_time_is_cut_off_and_tried_again(
        app: Flask, app_ctx: None, crm: Proxy) -> None:
    release = threading.Event()

    def slow(params: dict[str, Any]) -> tuple[int, Any]:
        release.wait(10)  # far past the time limit; freed at the end of the test
        return customer(params)

    processes.deploy(files(), ME)
    crm.operators["crm/LookupCustomer"] = slow
    app.config["PLAINT_SERVICE_TIMEOUT"] = 0.3
    case = start()
    try:
        assert service_calls.run_due().retrying == 1
    finally:
        release.set()
    [call] = calls_of(case)
    assert call.status == "pending" and "could not be reached" in call.last_error
    assert tasks_of(case) == []


def test_the_http_operator_reads_no_more_than_its_limit(app: Flask, app_ctx: None) -> None:
    with connector_proxy({}) as site:
        site.pages["/customers/layla"] = {"tier": "x" * 5000}
        processes.deploy(files(**{
            'id="crm/LookupCustomer"': 'id="plaint/HttpRequest"',
            'id="name" type="str" value="complainant_name"':
                f'id="url" type="str" value="&quot;{site.url}/customers/layla&quot;"'}), ME)
        app.config.update(PLAINT_HTTP_ALLOWED_HOSTS=("127.0.0.1",),
                          PLAINT_HTTP_ALLOWED_NETWORKS=("127.0.0.1",),
                          PLAINT_HTTP_MAX_RESPONSE_BYTES=1000)
        case = start()
        assert service_calls.run_due().failed == 1  # no use trying again
        db.session.rollback()
        error = db.session.scalar(select(Incident.error).where(Incident.case_id == case.id))
        assert "the answer from 127.0.0.1 is larger than 1000 bytes" in error


SLOW_PATH = """
    <bpmn:boundaryEvent id="Event_too_slow" name="Too slow" attachedToRef="Activity_lookup">
      <bpmn:outgoing>Flow_slow</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration>"PT2H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="Flow_slow" sourceRef="Event_too_slow" targetRef="Event_gave_up" />
    <bpmn:endEvent id="Event_gave_up" name="Gave up">
      <bpmn:incoming>Flow_slow</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>"""


def test_a_call_whose_task_a_boundary_timer_cancelled_is_not_made(
        app: Flask, app_ctx: None, crm: Proxy) -> None:
    processes.deploy(files(**{"</bpmn:process>": SLOW_PATH}), ME)
    with time_machine.travel(utcnow(), tick=False) as clock:
        case = start()
        clock.shift(timedelta(hours=3))  # the CRM call never got made in time
        assert timers.sweep().fired == 1
        assert not the_case(case.reference).is_open
        assert service_calls.run_due().done == 0
    assert crm.calls == []
    assert [c.status for c in calls_of(case)] == ["cancelled"]
