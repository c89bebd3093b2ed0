#!/usr/bin/env node
// Checks that the studio (bpmn-js, dmn-js) opens every diagram with no import warnings.
//
//   node tests/js/check_di.mjs [FILE.bpmn|FILE.dmn ...]    (default: workflows/*)
//
// bpmn-js needs a DOM to import, so this reads the files with the same moddle packages the
// studio uses (from static/node_modules) and repeats what the importers would warn about.
//
// bpmn-js 18, lib/import/BpmnTreeWalker.js and BpmnImporter.js:
//   - every warning of moddle's fromXML ("unparsable content", "unresolved reference")
//   - "no diagram to display", "no plane for <diagram>"
//   - "correcting missing bpmnElement on <plane>"
//   - "multiple DI elements defined for <element>"
//   - "no bpmnElement referenced in <di>"
//   - "unrecognized flowElement <element>"
//   - "element <x> referenced by <flow>#sourceRef|targetRef|attachedToRef not yet drawn"
// dmn-js-drd 17, lib/import/DrdTreeWalker.js:
//   - every warning of moddle's fromXML
//   - "no dmndi:DMNDI", "no diagram to display"
//   - "multiple DI elements defined for element", "no DMN element referenced in element"
// Stricter than the importers, which silently leave out what has no DI: every element they
// would draw has exactly one shape or edge, edges have two waypoints or more, shapes have a
// positive size, every process is drawn, and every called process (callActivity
// calledElement) has a diagram of its own, as SpiffArena opens call activities that way.
//
// Prints one line per file; exits 1 naming the file and element of every problem.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODULES = join(REPO, 'static', 'node_modules');

async function load(pkg) {
  return import(pathToFileURL(join(MODULES, pkg, 'dist', 'index.js')).href);
}

const { BpmnModdle } = await load('bpmn-moddle');
const { DmnModdle } = await load('dmn-moddle');

// -- BPMN ------------------------------------------------------------------------------

const is = (element, type) => Boolean(element && element.$instanceOf && element.$instanceOf(type));
const idOf = (element) => (element && element.id) || '(no id)';
const label = (element) => `${element.$type} ${idOf(element)}`;

// What bpmn-js draws from one process or sub-process (BpmnTreeWalker.handleFlowElementsContainer).
function drawnInContainer(container, out, problems) {
  for (const element of container.flowElements || []) {
    if (is(element, 'bpmn:SequenceFlow')) {
      out.push(element);
    } else if (is(element, 'bpmn:FlowNode')) {
      out.push(element);
      for (const association of [...(element.dataInputAssociations || []),
        ...(element.dataOutputAssociations || [])]) {
        out.push(association);
      }
      if (is(element, 'bpmn:SubProcess')) {
        drawnInContainer(element, out, problems);
      }
    } else if (is(element, 'bpmn:DataObjectReference') || is(element, 'bpmn:DataStoreReference')) {
      out.push(element);
    } else if (!is(element, 'bpmn:DataObject')) {
      problems.push([idOf(element), `unrecognized flowElement ${label(element)}`]);
    }
  }
  const lanes = (laneSets) => {
    for (const laneSet of laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        out.push(lane);
        lanes(lane.childLaneSet ? [lane.childLaneSet] : []);
      }
    }
  };
  lanes(container.laneSets);
  out.push(...(container.artifacts || []));
}

function isEdgeElement(element) {
  return ['bpmn:SequenceFlow', 'bpmn:MessageFlow', 'bpmn:Association',
    'bpmn:DataAssociation'].some((type) => is(element, type));
}

function checkBounds(di, problems) {
  const b = di.bounds;
  const ok = b && [b.x, b.y, b.width, b.height].every(Number.isFinite) && b.width > 0 && b.height > 0;
  if (!ok) {
    problems.push([idOf(di.bpmnElement || di.dmnElementRef || di),
      `${label(di)} needs bounds with a positive width and height`]);
  }
}

function checkWaypoints(di, problems) {
  const points = di.waypoint || [];
  if (points.length < 2 || !points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))) {
    problems.push([idOf(di.bpmnElement || di.dmnElementRef || di),
      `${label(di)} needs at least two waypoints (has ${points.length})`]);
  }
}

// Each .bpmn file on its own, then what spans files (called processes).
function checkBpmn(definitions, problems) {
  const diagrams = definitions.diagrams || [];
  if (!diagrams.length) {
    problems.push([idOf(definitions), 'no diagram to display (no bpmndi:BPMNDiagram)']);
    return { processes: [], ownDiagram: new Set() };
  }
  const processes = (definitions.rootElements || []).filter((e) => is(e, 'bpmn:Process'));
  const collaborations = (definitions.rootElements || []).filter((e) => is(e, 'bpmn:Collaboration'));

  // Which processes the diagrams draw, and which have a diagram of their own.
  const drawnProcesses = new Set();
  const ownDiagram = new Set();
  const diList = [];
  for (const diagram of diagrams) {
    const plane = diagram.plane;
    if (!plane) {
      problems.push([idOf(diagram), `no plane for ${label(diagram)}`]);
      continue;
    }
    const root = plane.bpmnElement;
    if (!root) {
      problems.push([idOf(plane), `correcting missing bpmnElement on ${label(plane)}`]);
    } else if (is(root, 'bpmn:Process')) {
      drawnProcesses.add(root);
      ownDiagram.add(root.id);
    } else if (is(root, 'bpmn:Collaboration')) {
      const refs = (root.participants || []).map((p) => p.processRef).filter(Boolean);
      refs.forEach((p) => drawnProcesses.add(p));
      if (refs.length === 1) {
        ownDiagram.add(refs[0].id);
      }
    } else if (!is(root, 'bpmn:SubProcess')) {
      problems.push([idOf(root), `unsupported bpmnElement ${label(root)} on ${label(plane)}`]);
    }
    diList.push(...(plane.planeElement || []));
  }

  // What bpmn-js would draw.
  const drawn = [];
  for (const collaboration of collaborations) {
    const shown = diagrams.some((d) => d.plane && d.plane.bpmnElement === collaboration);
    if (!shown) {
      continue;
    }
    drawn.push(...(collaboration.participants || []), ...(collaboration.messageFlows || []),
      ...(collaboration.artifacts || []));
  }
  for (const process of processes) {
    if (!drawnProcesses.has(process)) {
      problems.push([process.id, `the process ${process.id} is in no diagram: bpmn-js does not show it`]);
      continue;
    }
    drawnInContainer(process, drawn, problems);
  }

  // The DI: one shape or edge per element, well formed.
  const diFor = new Map();
  for (const di of diList) {
    const element = di.bpmnElement;
    if (!element) {
      problems.push([idOf(di), `no bpmnElement referenced in ${label(di)}`]);
      continue;
    }
    if (diFor.has(element)) {
      problems.push([idOf(element), `multiple DI elements defined for ${label(element)}`]);
      continue;
    }
    diFor.set(element, di);
    if (is(di, 'bpmndi:BPMNEdge')) {
      if (!isEdgeElement(element)) {
        problems.push([idOf(element), `${label(di)} draws ${label(element)}, which needs a BPMNShape`]);
      }
      checkWaypoints(di, problems);
    } else if (is(di, 'bpmndi:BPMNShape')) {
      if (isEdgeElement(element)) {
        problems.push([idOf(element), `${label(di)} draws ${label(element)}, which needs a BPMNEdge`]);
      }
      checkBounds(di, problems);
    }
  }
  const drawnSet = new Set(drawn);
  for (const [element, di] of diFor) {
    if (!drawnSet.has(element)) {
      problems.push([idOf(element), `${label(di)} refers to ${label(element)}, which bpmn-js does not draw`]);
    }
  }
  for (const element of drawn) {
    if (!diFor.has(element)) {
      const kind = isEdgeElement(element) ? 'BPMNEdge' : 'BPMNShape';
      problems.push([idOf(element), `${label(element)} has no ${kind}: bpmn-js leaves it out`]);
    }
  }

  // References the importer follows while drawing (BpmnImporter._getConnectedElement).
  for (const element of drawn) {
    if (!diFor.has(element)) {
      continue;
    }
    const refs = [];
    if (is(element, 'bpmn:BoundaryEvent')) {
      refs.push(['attachedToRef', element.attachedToRef]);
    }
    if (is(element, 'bpmn:SequenceFlow') || is(element, 'bpmn:MessageFlow')
        || is(element, 'bpmn:Association')) {
      refs.push(['sourceRef', element.sourceRef], ['targetRef', element.targetRef]);
    }
    for (const [property, ref] of refs) {
      if (!ref) {
        problems.push([idOf(element), `${label(element)}#${property} not specified`]);
      } else if (!diFor.has(ref)) {
        problems.push([idOf(element),
          `element ${label(ref)} referenced by ${label(element)}#${property} not yet drawn`]);
      }
    }
  }
  return { processes, ownDiagram };
}

function calledElements(definitions) {
  const found = [];
  const walk = (container, process) => {
    for (const element of container.flowElements || []) {
      if (is(element, 'bpmn:CallActivity')) {
        found.push({ activity: element, process });
      }
      if (is(element, 'bpmn:SubProcess')) {
        walk(element, process);
      }
    }
  };
  for (const process of (definitions.rootElements || []).filter((e) => is(e, 'bpmn:Process'))) {
    walk(process, process);
  }
  return found;
}

// -- DMN -------------------------------------------------------------------------------

function checkDmn(definitions, problems) {
  const dmnDI = definitions.dmnDI;
  if (!dmnDI) {
    problems.push([idOf(definitions), 'no dmndi:DMNDI: dmn-js cannot show the decision requirements']);
    return;
  }
  const diagrams = dmnDI.diagrams || [];
  if (!diagrams.length) {
    problems.push([idOf(definitions), 'no diagram to display (no dmndi:DMNDiagram)']);
    return;
  }
  const drawn = [];
  for (const element of definitions.drgElement || []) {
    drawn.push(element);
    for (const kind of ['informationRequirement', 'knowledgeRequirement', 'authorityRequirement']) {
      drawn.push(...(element[kind] || []));
    }
  }
  drawn.push(...(definitions.artifact || []));
  const isEdge = (e) => is(e, 'dmn:InformationRequirement') || is(e, 'dmn:KnowledgeRequirement')
    || is(e, 'dmn:AuthorityRequirement') || is(e, 'dmn:Association');

  const diFor = new Map();
  for (const diagram of diagrams) {
    for (const di of diagram.diagramElements || []) {
      const element = di.dmnElementRef;
      if (!element) {
        problems.push([idOf(di), `no DMN element referenced in ${label(di)}`]);
      } else if (diFor.has(element)) {
        problems.push([idOf(element), `multiple DI elements defined for ${label(element)}`]);
      } else {
        diFor.set(element, di);
        if (is(di, 'dmndi:DMNEdge')) {
          checkWaypoints(di, problems);
        } else if (is(di, 'dmndi:DMNShape')) {
          checkBounds(di, problems);
        }
      }
    }
  }
  for (const element of drawn) {
    if (!diFor.has(element)) {
      const kind = isEdge(element) ? 'DMNEdge' : 'DMNShape';
      problems.push([idOf(element), `${label(element)} has no ${kind}: the DRD view leaves it out`]);
    }
  }
}

// -- main ------------------------------------------------------------------------------

function filesToCheck(args) {
  if (args.length) {
    return args.map((a) => resolve(a));
  }
  const folder = join(REPO, 'workflows');
  return readdirSync(folder).filter((n) => /\.(bpmn|dmn)$/.test(n)).sort()
    .map((n) => join(folder, n));
}

async function main(args) {
  const bpmnModdle = BpmnModdle();
  const dmnModdle = DmnModdle();
  const results = [];
  const processes = new Map(); // process id -> { file, ownDiagram }
  const calls = [];
  for (const file of filesToCheck(args)) {
    const problems = [];
    const name = basename(file);
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      results.push({ name, problems: [['(file)', `cannot read: ${error.message}`]] });
      continue;
    }
    try {
      if (file.endsWith('.dmn')) {
        const { rootElement, warnings } = await dmnModdle.fromXML(text, 'dmn:Definitions');
        warnings.forEach((w) => problems.push([idOf(w.element), w.message]));
        checkDmn(rootElement, problems);
      } else {
        const { rootElement, warnings } = await bpmnModdle.fromXML(text, 'bpmn:Definitions');
        warnings.forEach((w) => problems.push([idOf(w.element), w.message]));
        const { processes: found, ownDiagram } = checkBpmn(rootElement, problems);
        found.forEach((p) => processes.set(p.id, { name, ownDiagram: ownDiagram.has(p.id) }));
        calledElements(rootElement).forEach((c) => calls.push({ ...c, name, problems }));
      }
    } catch (error) {
      problems.push(['(file)', `cannot be imported: ${error.message.split('\n')[0]}`]);
    }
    results.push({ name, problems });
  }
  for (const { activity, problems } of calls) {
    const called = processes.get(activity.calledElement);
    if (!activity.calledElement) {
      problems.push([activity.id, `${label(activity)} has no calledElement`]);
    } else if (!called) {
      problems.push([activity.id, `${label(activity)} calls ${activity.calledElement}, `
        + 'which no checked file defines']);
    } else if (!called.ownDiagram) {
      problems.push([activity.id, `${label(activity)} calls ${activity.calledElement}, which has `
        + `no diagram of its own in ${called.name} (one BPMNDiagram whose plane shows only it)`]);
    }
  }
  let failed = 0;
  for (const { name, problems } of results) {
    if (!problems.length) {
      console.log(`ok    ${name}`);
      continue;
    }
    failed += 1;
    console.log(`FAIL  ${name}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    for (const [id, message] of problems) {
      console.log(`      ${name} [${id}]: ${message}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
