"""Workflow state serialized without its spec; specs come back from the version cache.

A state is written and read by task_tree.py, which gives what SpiffWorkflow's converters
and state_form.py give, faster; whatever it does not handle goes through those.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import (
    BusinessRuleTaskConverter,
    ServiceTaskConverter,
)

from ..packing import pack, unpack
from . import task_tree
from .decisions import BusinessRuleTask
from .service_tasks import ServiceTask
from .state_form import FORM, compact, expand


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the saved state and takes it from the caller on load."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        # Which of the version's processes this case runs: a process started by a
        # message (a corrective action) runs on one of the version's other specs.
        dct["process"] = workflow.spec.name
        return dct

    def from_dict(  # type: ignore[override]
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec,
        subprocess_specs: dict[str, BpmnProcessSpec],
        script_engine: Any = None,
    ) -> BpmnWorkflow:
        process = dct.pop("process", None)
        if process and process != spec.name and process in subprocess_specs:
            spec = subprocess_specs[process]
        workflow = self.target_class(
            spec, subprocess_specs, script_engine=script_engine, deserializing=True
        )
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_STATE = _make_serializer()


def _make_spec_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    # Registered last, so a stored "ServiceTask" comes back as Plaint's waiting one
    # (engine/service_tasks.py); SpiffWorkflow's, as parsed at deploy, still saves.
    config[ServiceTask] = ServiceTaskConverter
    # Likewise a stored "BusinessRuleTask" comes back as one that names its decision when
    # no rule matches (engine/decisions.py).
    config[BusinessRuleTask] = BusinessRuleTaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SPECS = _make_spec_serializer()
STATE_FORMAT = f"spiff-{_STATE.VERSION}-nospec-zlib"


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """Return the workflow's state, without its spec, as compact JSON, packed."""
    _STATE.registry._encoder_mode = True
    try:
        try:
            dct = task_tree.dump(workflow, _STATE.registry, _STATE.VERSION)
        except task_tree.Unhandled:
            dct = _generic_dict(workflow)
        text = json.dumps(dct, cls=_STATE._encoder_cls, separators=(",", ":"))
    finally:
        _STATE.registry._encoder_mode = False
    return pack(text.encode("utf-8"), "state")


def generic_dump_state(workflow: BpmnWorkflow) -> bytes:
    """dump_state() through SpiffWorkflow's converters alone (what it did before task_tree)."""
    _STATE.registry._encoder_mode = True
    try:
        text = json.dumps(_generic_dict(workflow), cls=_STATE._encoder_cls,
                          separators=(",", ":"))
    finally:
        _STATE.registry._encoder_mode = False
    return pack(text.encode("utf-8"), "state")


def _generic_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The stored form from SpiffWorkflow's to_dict (called in the registry's encoder mode)."""
    dct = _STATE.to_dict(workflow)
    dct[_STATE.VERSION_KEY] = _STATE.VERSION
    return compact(dct)


def state_dict(data: bytes) -> dict[str, Any]:
    """The serializer's dict of a state dump_state() wrote (or an older zlib one)."""
    return expand(json.loads(unpack(data)))


def load_state(
    data: bytes,
    spec: BpmnProcessSpec,
    subprocess_specs: dict[str, BpmnProcessSpec],
    script_engine: Any,
) -> BpmnWorkflow:
    """Rebuild a workflow from dump_state() output and the version's cached specs."""
    text = unpack(data)
    dct = json.loads(text)
    version = dct.get(_STATE.VERSION_KEY)
    if FORM in dct and version == _STATE.VERSION and version not in MIGRATIONS:
        try:
            return task_tree.load(dct, spec, subprocess_specs, script_engine, _STATE.registry)
        except task_tree.Unhandled:
            dct = json.loads(text)  # afresh: SpiffWorkflow's from_dict changes what it reads
    return _generic_load(dct, spec, subprocess_specs, script_engine)


def generic_load_state(
    data: bytes,
    spec: BpmnProcessSpec,
    subprocess_specs: dict[str, BpmnProcessSpec],
    script_engine: Any,
) -> BpmnWorkflow:
    """load_state() through SpiffWorkflow's converters alone (what it did before task_tree)."""
    return _generic_load(state_dict(data), spec, subprocess_specs, script_engine)


def _generic_load(dct: dict[str, Any], spec: BpmnProcessSpec,
                  subprocess_specs: dict[str, BpmnProcessSpec],
                  script_engine: Any) -> BpmnWorkflow:
    """A workflow from a stored dict (compact form or not), by SpiffWorkflow's converters."""
    dct = expand(dct)
    _STATE.migrate(dct)
    return _STATE.from_dict(  # type: ignore[no-any-return]
        dct, spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine
    )


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """Return the parsed process specs as JSON, stored once per process version."""
    _SPECS.registry._encoder_mode = True
    try:
        dct = {
            "spec": _SPECS.to_dict(spec),
            "subprocess_specs": {k: _SPECS.to_dict(v) for k, v in subprocess_specs.items()},
        }
        return json.dumps(dct, cls=_SPECS._encoder_cls, separators=(",", ":"))
    finally:
        _SPECS.registry._encoder_mode = False


def load_specs(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Rebuild the specs stored by dump_specs()."""
    dct = json.loads(text)
    spec = _SPECS.from_dict(dct["spec"])
    subs = {k: _SPECS.from_dict(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subs
