"""The studio opens every diagram in workflows/ with no import warnings (tests/js/check_di.mjs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tests" / "js" / "check_di.mjs"
MODULES = REPO / "static" / "node_modules"

BPMN_NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
           'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
           'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"')

# A caller and a called process, each drawn in a diagram of its own.
CALLER = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {BPMN_NS} id="Defs_caller" targetNamespace="http://plaint.dev/test">
  <bpmn:process id="caller" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:callActivity id="call" name="Ask a colleague" calledElement="helper" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="Flow_start" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="Flow_end" sourceRef="call" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_caller">
    <bpmndi:BPMNPlane id="Plane_caller" bpmnElement="caller">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="100" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="call_di" bpmnElement="call">
        <dc:Bounds x="200" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="360" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_start_di" bpmnElement="Flow_start">
        <di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_end_di" bpmnElement="Flow_end">
        <di:waypoint x="300" y="118" /><di:waypoint x="360" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

HELPER = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {BPMN_NS} id="Defs_helper" targetNamespace="http://plaint.dev/test">
  <bpmn:process id="helper" isExecutable="true">
    <bpmn:startEvent id="helper_start" />
    <bpmn:endEvent id="helper_end" />
    <bpmn:sequenceFlow id="Flow_helper" sourceRef="helper_start" targetRef="helper_end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_helper">
    <bpmndi:BPMNPlane id="Plane_helper" bpmnElement="helper">
      <bpmndi:BPMNShape id="helper_start_di" bpmnElement="helper_start">
        <dc:Bounds x="100" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="helper_end_di" bpmnElement="helper_end">
        <dc:Bounds x="200" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_helper_di" bpmnElement="Flow_helper">
        <di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
             xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
             xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
             id="Defs_decision" name="Decision" namespace="http://plaint.dev/test">
  <decision id="route" name="Route">
    <decisionTable id="route_table">
      <input id="route_in"><inputExpression id="route_ie" typeRef="string"><text>kind</text>
      </inputExpression></input>
      <output id="route_out" name="team" typeRef="string" />
      <rule id="route_any"><inputEntry id="route_any_in"><text>-</text></inputEntry>
        <outputEntry id="route_any_out"><text>"desk"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="Diagram_decision">
      <dmndi:DMNShape id="route_di" dmnElementRef="route">
        <dc:Bounds x="150" y="80" width="180" height="80" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""

SHAPE_OF_END = """      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="360" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
"""


def _node() -> str:
    """The node binary, or skip (fail where CI promises it) when the check cannot run."""
    node = shutil.which("node")
    missing = "node is not on PATH" if node is None else (
        None if (MODULES / "bpmn-moddle").is_dir() and (MODULES / "dmn-moddle").is_dir()
        else "static/node_modules has no bpmn-moddle/dmn-moddle (run make setup)")
    if missing or node is None:
        reason = f"diagram interchange check needs Node and npm packages: {missing}"
        if os.environ.get("PLAINT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (PLAINT_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return node


def check(*files: Path) -> subprocess.CompletedProcess[str]:
    """Run check_di.mjs on the files."""
    return subprocess.run([_node(), str(SCRIPT), *map(str, files)], capture_output=True,
                          text=True, timeout=60, check=False)


def write(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write sample diagrams by file name and return their paths."""
    for name, text in files.items():
        (folder / name).write_text(text)
    return [folder / name for name in files]


def test_every_diagram_in_workflows_opens_in_the_studio_without_warnings() -> None:
    files = sorted(p for p in (REPO / "workflows").iterdir() if p.suffix in (".bpmn", ".dmn"))
    result = check(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [word for f in files for word in ("ok", f.name)]


def test_well_drawn_samples_pass(tmp_path: Path) -> None:
    result = check(*write(tmp_path, {"caller.bpmn": CALLER, "helper.bpmn": HELPER,
                                    "route.dmn": DECISION}))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("caller", "decision", "expected"), [
    (CALLER.replace(SHAPE_OF_END, ""), DECISION,
     "caller.bpmn [end]: bpmn:EndEvent end has no BPMNShape"),
    (CALLER.replace(SHAPE_OF_END, ""), DECISION,
     "caller.bpmn [Flow_end]: element bpmn:EndEvent end referenced by "
     "bpmn:SequenceFlow Flow_end#targetRef not yet drawn"),
    (CALLER.replace('bpmnElement="end"', 'bpmnElement="finish"'), DECISION,
     "caller.bpmn [end_di]: unresolved reference <finish>"),
    (CALLER.replace('<di:waypoint x="300" y="118" />', ""), DECISION,
     "caller.bpmn [Flow_end]: bpmndi:BPMNEdge Flow_end_di needs at least two waypoints"),
    (CALLER.replace('width="100"', 'width="0"'), DECISION,
     "caller.bpmn [call]: bpmndi:BPMNShape call_di needs bounds with a positive width"),
    (CALLER.replace('id="end_di" bpmnElement="end"', 'id="end_di" bpmnElement="call"'), DECISION,
     "caller.bpmn [call]: multiple DI elements defined for bpmn:CallActivity call"),
    (CALLER.replace('calledElement="helper"', 'calledElement="nobody"'), DECISION,
     "caller.bpmn [call]: bpmn:CallActivity call calls nobody, which no checked file defines"),
    (CALLER, DECISION.replace('dmnElementRef="route"', 'dmnElementRef="route_table"'),
     "route.dmn [route]: dmn:Decision route has no DMNShape"),
])
def test_a_broken_diagram_fails_naming_the_file_and_element(
        tmp_path: Path, caller: str, decision: str, expected: str) -> None:
    result = check(*write(tmp_path, {"caller.bpmn": caller, "helper.bpmn": HELPER,
                                    "route.dmn": decision}))
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout


def test_a_called_process_drawn_only_inside_the_callers_diagram_is_refused(
        tmp_path: Path) -> None:
    # The helper's process moves into the caller's file, with no diagram of its own.
    process = HELPER[HELPER.index("  <bpmn:process"):HELPER.index("  <bpmndi:BPMNDiagram")]
    caller = CALLER.replace("  <bpmndi:BPMNDiagram", process + "  <bpmndi:BPMNDiagram", 1)
    result = check(*write(tmp_path, {"caller.bpmn": caller}))
    assert result.returncode == 1
    assert "caller.bpmn [helper]: the process helper is in no diagram" in result.stdout
    assert "caller.bpmn [call]: bpmn:CallActivity call calls helper, which has no diagram of " \
           "its own" in result.stdout
