// Reading and changing what Plaint reads from a diagram element, as undoable commands.
//
// Every change goes through the properties panel's multi-command handler, so one edit in
// the panel is one step of undo, even when it has to create the containers first
// (bpmn:extensionElements, spiffworkflow:properties, a bpmn:message ...).

import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const MULTI = 'properties-panel.multi-command-executor';

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

/** The extension values of a business object (or event definition) of one type. */
export function extensionsOf(bo, type) {
  const values = (bo && bo.extensionElements && bo.extensionElements.values) || [];
  return values.filter((value) => is(value, type));
}

/** The spiffworkflow:properties entry `name` of an element, or undefined. */
export function getProperty(element, name) {
  const container = extensionsOf(getBusinessObject(element), 'spiffworkflow:Properties')[0];
  const entry = container && (container.properties || []).find((p) => p.name === name);
  return entry ? entry.value : undefined;
}

/**
 * Commands that make sure `bo` has bpmn:extensionElements; returns [extensionElements, commands].
 * `bo` may be the element's business object or one of its event definitions.
 */
function ensureExtensionElements(element, bo, bpmnFactory) {
  if (bo.extensionElements) {
    return [bo.extensionElements, []];
  }
  const extensionElements = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
  extensionElements.$parent = bo;
  return [extensionElements, [update(element, bo, { extensionElements })]];
}

/** Set (or, with an empty value, remove) the spiffworkflow:properties entry `name`. */
export function setProperty(element, name, value, { bpmnFactory, commandStack }) {
  const bo = getBusinessObject(element);
  const empty = value === undefined || value === null || value === '';
  let container = extensionsOf(bo, 'spiffworkflow:Properties')[0];
  const entry = container && (container.properties || []).find((p) => p.name === name);
  const commands = [];
  if (empty) {
    if (!entry) {
      return;
    }
    const rest = container.properties.filter((p) => p !== entry);
    if (rest.length) {
      commands.push(update(element, container, { properties: rest }));
    } else {
      // An empty spiffworkflow:properties is noise in the XML: drop it.
      const values = bo.extensionElements.values.filter((v) => v !== container);
      commands.push(update(element, bo.extensionElements, { values }));
    }
  } else if (entry) {
    commands.push(update(element, entry, { value }));
  } else {
    const [extensionElements, made] = ensureExtensionElements(element, bo, bpmnFactory);
    commands.push(...made);
    if (!container) {
      container = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
      container.$parent = extensionElements;
      commands.push(update(element, extensionElements, {
        values: [...(extensionElements.values || []), container],
      }));
    }
    const property = bpmnFactory.create('spiffworkflow:Property', { name, value });
    property.$parent = container;
    commands.push(update(element, container, {
      properties: [...(container.properties || []), property],
    }));
  }
  commandStack.execute(MULTI, commands);
}

/** The text of a body-only spiffworkflow element (messageVariable ...) under `bo`. */
export function getBodyExtension(bo, type) {
  const found = extensionsOf(bo, type)[0];
  return found ? found.value : undefined;
}

/** Set or remove a body-only spiffworkflow element under `bo` (a business object or definition). */
export function setBodyExtension(element, bo, type, value, { bpmnFactory, commandStack }) {
  const found = extensionsOf(bo, type)[0];
  const commands = [];
  if (!value) {
    if (!found) {
      return;
    }
    commands.push(update(element, bo.extensionElements, {
      values: bo.extensionElements.values.filter((v) => v !== found),
    }));
  } else if (found) {
    commands.push(update(element, found, { value }));
  } else {
    const [extensionElements, made] = ensureExtensionElements(element, bo, bpmnFactory);
    commands.push(...made);
    const created = bpmnFactory.create(type, { value });
    created.$parent = extensionElements;
    commands.push(update(element, extensionElements, {
      values: [...(extensionElements.values || []), created],
    }));
  }
  commandStack.execute(MULTI, commands);
}

/** The one event definition of `type` on an event, if any. */
export function eventDefinition(element, type) {
  const bo = getBusinessObject(element);
  return (bo.eventDefinitions || []).find((d) => is(d, type));
}

/** Which of timeDate/timeDuration/timeCycle a timer uses, and its expression text. */
export function getTimer(definition) {
  for (const kind of ['timeDate', 'timeDuration', 'timeCycle']) {
    if (definition.get(kind)) {
      return { kind, body: definition.get(kind).body || '' };
    }
  }
  return { kind: 'timeDate', body: '' };
}

/** Set a timer's kind and expression; an empty expression leaves the timer without one. */
export function setTimer(element, definition, kind, body, { bpmnFactory, commandStack }) {
  const properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
  if (body) {
    const expression = bpmnFactory.create('bpmn:FormalExpression', { body });
    expression.$parent = definition;
    properties[kind] = expression;
  }
  commandStack.execute(MULTI, [update(element, definition, properties)]);
}

/** Set a sequence flow's condition (a Python expression); empty removes it. */
export function setCondition(element, body, { bpmnFactory, commandStack }) {
  let conditionExpression;
  if (body) {
    conditionExpression = bpmnFactory.create('bpmn:FormalExpression', { body });
    conditionExpression.$parent = getBusinessObject(element);
  }
  commandStack.execute(MULTI, [
    update(element, getBusinessObject(element), { conditionExpression }),
  ]);
}

/** The definitions element that holds the process (where bpmn:message lives). */
function definitionsOf(bo) {
  let node = bo;
  while (node && !is(node, 'bpmn:Definitions')) {
    node = node.$parent;
  }
  return node;
}

/** How many elements point at `message` (events through their definitions, tasks directly). */
function messageUsers(message, elementRegistry) {
  let count = 0;
  for (const shape of elementRegistry.getAll()) {
    const bo = shape.businessObject;
    if (!bo || shape.labelTarget) {
      continue;
    }
    const holders = [bo, ...(bo.eventDefinitions || [])];
    count += holders.filter((holder) => holder.messageRef === message).length;
  }
  return count;
}

/**
 * Point a message event (or receive/send task) at the message called `name`. The engine
 * matches messages by name, so: an existing message of that name is reused; a message
 * only this element uses is renamed (typing does not leave a trail of messages behind);
 * otherwise a new bpmn:message is created.
 */
export function setMessageName(element, holder, name, { bpmnFactory, commandStack, elementRegistry }) {
  const commands = [];
  const current = holder.messageRef;
  let message;
  if (name) {
    const definitions = definitionsOf(getBusinessObject(element));
    const roots = definitions.get('rootElements');
    message = roots.find((r) => is(r, 'bpmn:Message') && r.name === name);
    if (!message && current && messageUsers(current, elementRegistry) === 1) {
      commandStack.execute(MULTI, [update(element, current, { name })]);
      return;
    }
    if (!message) {
      message = bpmnFactory.create('bpmn:Message', { name });
      message.$parent = definitions;
      commands.push(update(element, definitions, { rootElements: [...roots, message] }));
    }
  }
  commands.push(update(element, holder, { messageRef: message }));
  commandStack.execute(MULTI, commands);
}

/** Every message name used in the diagram, for suggestions. */
export function messageNames(element) {
  const definitions = definitionsOf(getBusinessObject(element));
  return (definitions ? definitions.get('rootElements') : [])
    .filter((r) => is(r, 'bpmn:Message') && r.name)
    .map((r) => r.name);
}
