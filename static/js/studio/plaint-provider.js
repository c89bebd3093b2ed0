// The "Plaint" group of the properties panel: what the server reads from the diagram.
//
// Plain `h()` calls instead of JSX keep the build a single esbuild command. The standard
// Timer and Message groups are replaced by ours, which explain Plaint's expressions and
// match messages by name as the engine does.

import { h } from '@bpmn-io/properties-panel/preact';
import {
  CheckboxEntry, Group, SelectEntry, TextAreaEntry, TextFieldEntry,
  isCheckboxEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';

import {
  eventDefinition, getBodyExtension, getProperty, getTimer, messageNames, setBodyExtension,
  setCondition, setMessageName, setProperty, setTimer,
} from './spiff-model.js';

const REPLACED_GROUPS = new Set(['timer', 'message']);

function useEditing() {
  return {
    bpmnFactory: useService('bpmnFactory'),
    commandStack: useService('commandStack'),
    elementRegistry: useService('elementRegistry'),
  };
}

// ---- entries bound to one spiffworkflow:properties entry ----

function PropertyText(props) {
  const { element, id, property, label, description, multiline } = props;
  const editing = useEditing();
  const debounce = useService('debounceInput');
  return h(multiline ? TextAreaEntry : TextFieldEntry, {
    element, id, label, description, debounce,
    getValue: () => getProperty(element, property) || '',
    setValue: (value) => setProperty(element, property, value, editing),
  });
}

function PropertyChoice(props) {
  const { element, id, property, label, description, choices, emptyLabel } = props;
  const editing = useEditing();
  const context = useService('plaintContext');
  return h(SelectEntry, {
    element, id, label, description,
    getValue: () => getProperty(element, property) || '',
    setValue: (value) => setProperty(element, property, value, editing),
    getOptions: () => {
      const current = getProperty(element, property);
      const values = choices(context);
      const options = [{ value: '', label: emptyLabel }, ...values.map((v) => ({ value: v, label: v }))];
      if (current && !values.includes(current)) {
        // Keep a value the draft does not offer visible, so it can be seen and fixed.
        options.push({ value: current, label: `${current} ${context.text.missing}` });
      }
      return options;
    },
  });
}

function PropertyFlag(props) {
  const { element, id, property, label, description } = props;
  const editing = useEditing();
  return h(CheckboxEntry, {
    element, id, label, description,
    getValue: () => getProperty(element, property) === 'true',
    setValue: (checked) => setProperty(element, property, checked ? 'true' : '', editing),
  });
}

// ---- timers, conditions, messages ----

const TIMER_KINDS = [
  { value: 'timeDate', label: 'At a date and time (timeDate)' },
  { value: 'timeDuration', label: 'After a duration (timeDuration)' },
  { value: 'timeCycle', label: 'Repeating (timeCycle)' },
];

function TimerKind({ element, id }) {
  const editing = useEditing();
  const definition = eventDefinition(element, 'bpmn:TimerEventDefinition');
  return h(SelectEntry, {
    element, id, label: 'Timer type',
    getValue: () => getTimer(definition).kind,
    setValue: (kind) => setTimer(element, definition, kind, getTimer(definition).body, editing),
    getOptions: () => TIMER_KINDS,
  });
}

function TimerExpression({ element, id }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const definition = eventDefinition(element, 'bpmn:TimerEventDefinition');
  return h(TextFieldEntry, {
    element, id, debounce, label: 'Timer expression',
    description: 'A Python expression: deadline("acknowledge"), reminder("resolution"), '
      + 'next_level("acknowledge"), working_days(10), working_hours(4), or a quoted ISO '
      + 'value such as "P2D" or "2026-01-31T09:00:00+03:00".',
    getValue: () => getTimer(definition).body,
    setValue: (body) => setTimer(element, definition, getTimer(definition).kind, body, editing),
  });
}

function Condition({ element, id }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true, rows: 2, label: 'Condition',
    description: 'A Python expression on the case data, e.g. in_scope == True or '
      + 'priority in ("high", "urgent"). The flow is taken when it is true.',
    getValue: () => {
      const expression = getBusinessObject(element).conditionExpression;
      return (expression && expression.body) || '';
    },
    setValue: (body) => setCondition(element, body, editing),
  });
}

function DefaultFlowNote({ id }) {
  return h('div', { class: 'bio-properties-panel-entry plaint-note', 'data-entry-id': id },
    h('p', null, 'This is the default flow of its gateway: it is taken when no condition '
      + 'of the other flows is true, so it has no condition of its own.'));
}

function messageHolder(element) {
  return eventDefinition(element, 'bpmn:MessageEventDefinition')
    || (isAny(element, ['bpmn:ReceiveTask', 'bpmn:SendTask']) ? getBusinessObject(element) : null);
}

function MessageName({ element, id }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const holder = messageHolder(element);
  const names = messageNames(element);
  return h(TextFieldEntry, {
    element, id, debounce, label: 'Message name',
    description: 'The engine matches messages by name. '
      + (names.length ? `Names in this diagram: ${names.join(', ')}.` : ''),
    getValue: () => (holder.messageRef && holder.messageRef.name) || '',
    setValue: (name) => setMessageName(element, holder, name, editing),
  });
}

function MessageExtension({ element, id, type, label, description }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const holder = messageHolder(element);
  return h(TextFieldEntry, {
    element, id, debounce, label, description,
    getValue: () => getBodyExtension(holder, type) || '',
    setValue: (value) => setBodyExtension(element, holder, type, value, editing),
  });
}

// ---- scripts and decisions ----

function Script({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true, rows: 6, label: 'Script',
    description: 'Python, run in the sandbox with the case data as variables.',
    getValue: () => getBusinessObject(element).script || '',
    setValue: (script) => modeling.updateProperties(element, { script }),
  });
}

function BodyExtension({ element, id, type, label, description, multiline }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return h(multiline ? TextAreaEntry : TextFieldEntry, {
    element, id, debounce, label, description, monospace: multiline, rows: multiline ? 3 : undefined,
    getValue: () => getBodyExtension(bo, type) || '',
    setValue: (value) => setBodyExtension(element, bo, type, value, editing),
  });
}

// ---- who works a task ----

function RoleNote({ element, id }) {
  const context = useService('plaintContext');
  const bo = getBusinessObject(element);
  let text;
  if (is(element, 'bpmn:Lane')) {
    const role = context.laneRole(bo.name || '');
    text = role ? context.text.laneRole.replace('{role}', role)
      : context.text.laneNoRole.replace('{roles}', context.roles.join(', '));
  } else {
    const candidate = getProperty(element, 'candidateRole');
    const lane = (bo.get('lanes') || [])[0];
    const role = candidate || (lane && context.laneRole(lane.name || ''));
    text = role ? context.text.taskRole.replace('{role}', role) : context.text.taskNoRole;
  }
  return h('div', { class: 'bio-properties-panel-entry plaint-note', 'data-entry-id': id },
    h('p', null, text));
}

// ---- which entries an element gets ----

const FORM_OWNERS = ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:StartEvent', 'bpmn:IntermediateCatchEvent'];
const PEOPLE_TASKS = ['bpmn:UserTask', 'bpmn:ManualTask'];
const STEPS = ['bpmn:Activity', 'bpmn:Event'];

function text(id, property, label, description, extra = {}) {
  return { id, property, label, description, component: PropertyText, isEdited: isTextFieldEntryEdited, ...extra };
}

function plaintEntries(element) {
  const entries = [];
  const bo = getBusinessObject(element);
  if (is(element, 'bpmn:Lane')) {
    entries.push({ id: 'plaint-lane-role', component: RoleNote });
    return entries;
  }
  // What makes an event happen comes first: it is what the element is about.
  if (eventDefinition(element, 'bpmn:TimerEventDefinition')) {
    entries.push({ id: 'plaint-timer-kind', component: TimerKind, isEdited: isSelectEntryEdited });
    entries.push({ id: 'plaint-timer', component: TimerExpression, isEdited: isTextFieldEntryEdited });
  }
  if (messageHolder(element)) {
    entries.push({ id: 'plaint-message', component: MessageName, isEdited: isTextFieldEntryEdited });
    const catches = isAny(element, ['bpmn:CatchEvent', 'bpmn:ReceiveTask']);
    entries.push(catches ? {
      id: 'plaint-messageVariable', type: 'spiffworkflow:MessageVariable', label: 'Message variable',
      description: 'The case data field that receives what the message carries.',
      component: MessageExtension, isEdited: isTextFieldEntryEdited,
    } : {
      id: 'plaint-messagePayload', type: 'spiffworkflow:MessagePayload', label: 'Message payload',
      description: 'A Python expression: what the message carries.',
      component: MessageExtension, isEdited: isTextFieldEntryEdited,
    });
  }
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push({ id: 'plaint-script', component: Script, isEdited: isTextAreaEntryEdited });
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    entries.push({
      id: 'plaint-calledDecisionId', type: 'spiffworkflow:CalledDecisionId', label: 'Decision',
      description: 'The id of the decision (in a .dmn file of this draft) that this task evaluates.',
      component: BodyExtension, isEdited: isTextFieldEntryEdited,
    });
  }
  if (isAny(element, PEOPLE_TASKS)) {
    entries.push({ id: 'plaint-task-role', component: RoleNote });
    entries.push({
      id: 'plaint-candidateRole', property: 'candidateRole', label: 'Candidate role',
      description: 'Leave empty to give the task to the role of its lane.',
      emptyLabel: "(the lane's role)", choices: (c) => c.roles,
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
  }
  if (isAny(element, FORM_OWNERS)) {
    entries.push({
      id: 'plaint-form', property: 'formJsonSchemaFilename', label: 'Form file',
      description: 'The JSON Schema shown to the person who works this step.',
      emptyLabel: '(no form)', choices: (c) => c.formFiles(),
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
    entries.push({
      id: 'plaint-uiform', property: 'formUiSchemaFilename', label: 'UI form file',
      description: 'Optional: field order, widgets and help texts for the form.',
      emptyLabel: '(none)', choices: (c) => c.uiFiles(),
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
  }
  if (isAny(element, STEPS)) {
    entries.push(text('plaint-statusLabel', 'statusLabel', 'Status label',
      'What the complainant sees on the tracking page while the case is here.'));
  }
  if (is(element, 'bpmn:BoundaryEvent')) {
    entries.push(text('plaint-inboxFlag', 'inboxFlag', 'Inbox flag',
      'A badge shown on the task in the inbox once this event has happened.'));
    entries.push({
      id: 'plaint-reminder', property: 'reminder', label: 'Reminder only',
      description: 'A reminder does not set the due time of the task.',
      component: PropertyFlag, isEdited: isCheckboxEntryEdited,
    });
  }
  if (isAny(element, ['bpmn:Activity', 'bpmn:IntermediateCatchEvent'])) {
    entries.push(text('plaint-pausesClock', 'pausesClock', 'Pauses clock',
      'A deadline kind (e.g. resolution) whose clock stops while the case waits here.'));
    entries.push(text('plaint-promptVariable', 'promptVariable', 'Prompt variable',
      'The case data field holding the question shown to the complainant.'));
  }
  if (is(element, 'bpmn:Activity')) {
    entries.push({
      id: 'plaint-preScript', type: 'spiffworkflow:PreScript', label: 'Before script', multiline: true,
      description: 'Python run just before the step starts.',
      component: BodyExtension, isEdited: isTextAreaEntryEdited,
    });
    entries.push({
      id: 'plaint-postScript', type: 'spiffworkflow:PostScript', label: 'After script', multiline: true,
      description: 'Python run just after the step completes.',
      component: BodyExtension, isEdited: isTextAreaEntryEdited,
    });
  }
  if (isAny(element, STEPS)) {
    entries.push(text('plaint-milestone', 'milestone', 'Milestone',
      'Reached when this step completes: acknowledged, resolved, closed or reopened.'));
    entries.push(text('plaint-notify', 'notify', 'Notify',
      'The e-mail template sent when this step completes.'));
    entries.push(text('plaint-notifyTo', 'notifyTo', 'Notify to',
      'complainant (default), assignee, or a lane or role name.'));
  }
  if (is(element, 'bpmn:SequenceFlow')) {
    const source = bo.sourceRef;
    if (source && source.default === bo) {
      entries.push({ id: 'plaint-default-flow', component: DefaultFlowNote });
    } else if (source && isAny(source, ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway', 'bpmn:Activity'])) {
      entries.push({ id: 'plaint-condition', component: Condition, isEdited: isTextAreaEntryEdited });
    }
  }
  return entries;
}

class PlaintPropertiesProvider {
  constructor(propertiesPanel) {
    // Lower priority than the standard provider: we see its groups and adjust them.
    propertiesPanel.registerProvider(500, this);
  }

  getGroups(element) {
    return (groups) => {
      const kept = groups.filter((group) => !REPLACED_GROUPS.has(group.id));
      const entries = plaintEntries(element);
      if (!entries.length) {
        return kept;
      }
      const plaint = { id: 'plaint', label: 'Plaint', entries, component: Group };
      const general = kept.findIndex((group) => group.id === 'general');
      kept.splice(general + 1, 0, plaint);
      return kept;
    };
  }
}

PlaintPropertiesProvider.$inject = ['propertiesPanel'];

export default {
  __init__: ['plaintPropertiesProvider'],
  plaintPropertiesProvider: ['type', PlaintPropertiesProvider],
};
