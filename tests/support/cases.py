"""Cases through the services (the caller holds an app context): starting them, finding their
tasks and walking them through whatever the process asks.

`drive` completes each step with valid values read from the task's form, so tests built on
it do not depend on the diagram's exact steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select

from server.errors import Forbidden
from server.extensions import db
from server.models import HumanTask
from server.services import cases, portal
from server.services.actors import Actor
from server.services.processes import form_schema

from .data import HANDLER, INTAKE

ALL_STAFF = frozenset({"handler", "supervisor", "complaints_manager", "specialist"})
REASONS = "The transfer of 3 March was booked twice; we returned the duplicate amount."
# Values for fields whose first valid value would take the case off the main path.
CHOSEN: dict[str, Any] = {
    "in_scope": True, "approved": True, "bundle_sent": True, "accepted": False,
    "outcome": "upheld", "response": REASONS, "remedy_offered": "Refund of the duplicate",
    "compensation_amount": 150, "review_outcome": "decision_confirmed",
    "review_note": "A second reviewer checked the bookings: the decision stands.",
    "reason": "I also lost interest on the amount.", "priority": "high"}


def ready_task(reference: str, bpmn_id: str) -> str:
    """The task id of a ready task of a case, as now committed."""
    db.session.rollback()
    case = cases.get_case(reference)
    task_id = db.session.scalar(select(HumanTask.task_id).where(
        HumanTask.case_id == case.id, HumanTask.bpmn_id == bpmn_id))
    assert task_id, f"{bpmn_id} is not ready in {reference}"
    return task_id


def complete(reference: str, bpmn_id: str, values: dict, actor: Actor = HANDLER) -> None:
    """Complete a ready task of a case, by its BPMN id."""
    cases.complete_task(reference, ready_task(reference, bpmn_id), values, actor)


def fill(schema: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
    """Valid values for a form: the chosen ones, else the first valid value of each required.

    Fields of a conditional branch (if/then/else, alone or in allOf) are filled when the
    values chosen so far make that branch apply, as a person answering the form would.
    """
    values = _fill_properties(schema, chosen, {})
    for rule in [schema, *schema.get("allOf", [])]:
        if "if" not in rule:
            continue
        branch = rule.get("then") if _matches(rule["if"], values) else rule.get("else")
        if branch:
            values.update(_fill_properties(branch, chosen, values))
            # A branch may require a field the form declares beside it (else: product).
            for name in branch.get("required", []):
                spec = schema.get("properties", {}).get(name)
                if name not in values and spec is not None:
                    values[name] = chosen.get(name, _first_valid(spec))
    return values


def _fill_properties(schema: dict[str, Any], chosen: dict[str, Any],
                     so_far: dict[str, Any]) -> dict[str, Any]:
    """The chosen or first valid values of one schema level's properties."""
    values: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, spec in schema.get("properties", {}).items():
        allowed = _choices(spec)
        if name in chosen and (name in required or allowed is None or chosen[name] in allowed):
            values[name] = chosen[name]
        elif name in required and name not in so_far:
            values[name] = _first_valid(spec)
    return values


def _matches(condition: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether the values satisfy an `if` schema."""
    return not any(Draft202012Validator(condition).iter_errors(values))


def _choices(spec: dict[str, Any]) -> list[Any] | None:
    """The values a field allows, from `enum` or labelled `oneOf`/`anyOf` constants."""
    if "enum" in spec:
        return list(spec["enum"])
    options = spec.get("oneOf") or spec.get("anyOf")
    if options and all("const" in option for option in options):
        return [option["const"] for option in options]
    return None


def _first_valid(spec: dict[str, Any]) -> Any:
    """A value the schema of one field accepts."""
    allowed = _choices(spec)
    if allowed:
        return allowed[0]
    if "x-codeList" in spec:
        return "other"  # the one code every list starts with (migration 0017)
    kind = spec.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return spec.get("default", spec.get("minimum", 1))
    if kind == "array":
        return []
    if spec.get("format") == "email":
        return "someone@example.com"
    return "Checked and noted."


def file_case(**intake: Any) -> tuple[str, str]:
    """Start a case through the services; return its reference and tracking token."""
    started = cases.start_case({**INTAKE, **intake}, "web", Actor.system("test-intake"))
    return started.case.reference, started.tracking_token


def drive(reference: str, until: Callable[[dict[str, Any]], bool],
          chosen: dict[str, Any] | None = None, steps: int = 30) -> dict[str, Any]:
    """Complete what the case waits for, step by step, until its data satisfies `until`."""
    chosen = {**CHOSEN, **(chosen or {})}
    for step in range(steps):
        case = cases.get_case(reference)
        data = cases.case_data(case)
        if until(data):
            return data
        tasks = cases.ready_tasks(case)
        if tasks:
            task = tasks[0]
            schema = form_schema(case.process_version_id, task.form) if task.form else {}
            values = fill(schema, chosen)
            try:  # a new person each step, so no objectivity rule refuses them
                cases.complete_task(reference, task.task_id, values,
                                    Actor(f"tester{step}", 9000 + step, ALL_STAFF))
            except Forbidden:
                cases.complete_task(reference, task.task_id, values, Actor.system("test"))
            continue
        asked = [q for q in portal.questions(case) if q["asked"]]
        assert asked, f"{reference} waits for nothing we can give (status {case.status_label})"
        portal.answer(case, asked[0], fill(asked[0]["schema"], chosen))
    raise AssertionError(f"{reference} did not get there in {steps} steps")


def decided(**intake: Any) -> tuple[str, str]:
    """A case with a decision; its reference and tracking token."""
    reference, token = file_case(**intake)
    drive(reference, lambda data: bool(data.get("outcome")))
    return reference, token
