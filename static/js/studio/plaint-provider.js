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
  const t = useText();
  return h(multiline ? TextAreaEntry : TextFieldEntry, {
    element, id, label: t[label], description: t[description], debounce,
    getValue: () => getProperty(element, property) || '',
    setValue: (value) => setProperty(element, property, value, editing),
  });
}

function PropertyChoice(props) {
  const { element, id, property, label, description, choices, emptyLabel } = props;
  const editing = useEditing();
  const context = useService('plaintContext');
  return h(SelectEntry, {
    element, id, label: context.text[label], description: context.text[description],
    getValue: () => getProperty(element, property) || '',
    setValue: (value) => setProperty(element, property, value, editing),
    getOptions: () => {
      const current = getProperty(element, property);
      const values = choices(context);
      const options = [{ value: '', label: context.text[emptyLabel] }, ...values.map((v) => ({ value: v, label: v }))];
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
  const t = useText();
  return h(CheckboxEntry, {
    element, id, label: t[label], description: t[description],
    getValue: () => getProperty(element, property) === 'true',
    setValue: (checked) => setProperty(element, property, checked ? 'true' : '', editing),
  });
}

// ---- timers, conditions, messages ----

/** The texts of the page's language (editor.html hands them over: config "text"). */
function useText() {
  return useService('plaintContext').text;
}

function TimerKind({ element, id }) {
  const editing = useEditing();
  const t = useText();
  const definition = eventDefinition(element, 'bpmn:TimerEventDefinition');
  return h(SelectEntry, {
    element, id, label: t.timerType,
    getValue: () => getTimer(definition).kind,
    setValue: (kind) => setTimer(element, definition, kind, getTimer(definition).body, editing),
    getOptions: () => [
      { value: 'timeDate', label: t.timerDate },
      { value: 'timeDuration', label: t.timerDuration },
      { value: 'timeCycle', label: t.timerCycle },
    ],
  });
}

function TimerExpression({ element, id }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const t = useText();
  const definition = eventDefinition(element, 'bpmn:TimerEventDefinition');
  return h(TextFieldEntry, {
    element, id, debounce, label: t.timerExpression, description: t.timerExpressionHelp,
    getValue: () => getTimer(definition).body,
    setValue: (body) => setTimer(element, definition, getTimer(definition).kind, body, editing),
  });
}

function Condition({ element, id }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const t = useText();
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true, rows: 2, label: t.condition, description: t.conditionHelp,
    getValue: () => {
      const expression = getBusinessObject(element).conditionExpression;
      return (expression && expression.body) || '';
    },
    setValue: (body) => setCondition(element, body, editing),
  });
}

function DefaultFlowNote({ id }) {
  return h('div', { class: 'bio-properties-panel-entry plaint-note', 'data-entry-id': id },
    h('p', null, useText().defaultFlow));
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
  const t = useText();
  return h(TextFieldEntry, {
    element, id, debounce, label: t.messageName,
    description: names.length ? `${t.messageNameHelp} ${t.messageNamesHere.replace('{names}', names.join(', '))}`
      : t.messageNameHelp,
    getValue: () => (holder.messageRef && holder.messageRef.name) || '',
    setValue: (name) => setMessageName(element, holder, name, editing),
  });
}

function MessageExtension({ element, id, type, label, description }) {
  const editing = useEditing();
  const t = useText();
  const debounce = useService('debounceInput');
  const holder = messageHolder(element);
  return h(TextFieldEntry, {
    element, id, debounce, label: t[label], description: t[description],
    getValue: () => getBodyExtension(holder, type) || '',
    setValue: (value) => setBodyExtension(element, holder, type, value, editing),
  });
}

// ---- scripts and decisions ----

function Script({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const t = useText();
  return h(TextAreaEntry, {
    element, id, debounce, monospace: true, rows: 6, label: t.script, description: t.scriptHelp,
    getValue: () => getBusinessObject(element).script || '',
    setValue: (script) => modeling.updateProperties(element, { script }),
  });
}

function BodyExtension({ element, id, type, label, description, multiline }) {
  const editing = useEditing();
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  const t = useText();
  return h(multiline ? TextAreaEntry : TextFieldEntry, {
    element, id, debounce, label: t[label], description: t[description], monospace: multiline, rows: multiline ? 3 : undefined,
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

// An entry's label and description are keys of the page's texts: `property` and `propertyHelp`.
function text(id, property) {
  return {
    id, property, label: property, description: `${property}Help`,
    component: PropertyText, isEdited: isTextFieldEntryEdited,
  };
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
      id: 'plaint-messageVariable', type: 'spiffworkflow:MessageVariable', label: 'messageVariable',
      description: 'messageVariableHelp',
      component: MessageExtension, isEdited: isTextFieldEntryEdited,
    } : {
      id: 'plaint-messagePayload', type: 'spiffworkflow:MessagePayload', label: 'messagePayload',
      description: 'messagePayloadHelp',
      component: MessageExtension, isEdited: isTextFieldEntryEdited,
    });
  }
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push({ id: 'plaint-script', component: Script, isEdited: isTextAreaEntryEdited });
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    entries.push({
      id: 'plaint-calledDecisionId', type: 'spiffworkflow:CalledDecisionId', label: 'decision',
      description: 'decisionHelp',
      component: BodyExtension, isEdited: isTextFieldEntryEdited,
    });
  }
  if (isAny(element, PEOPLE_TASKS)) {
    entries.push({ id: 'plaint-task-role', component: RoleNote });
    entries.push({
      id: 'plaint-candidateRole', property: 'candidateRole', label: 'candidateRole',
      description: 'candidateRoleHelp',
      emptyLabel: 'laneRoleOption', choices: (c) => c.roles,
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
  }
  if (isAny(element, FORM_OWNERS)) {
    entries.push({
      id: 'plaint-form', property: 'formJsonSchemaFilename', label: 'formFile',
      description: 'formFileHelp',
      emptyLabel: 'noForm', choices: (c) => c.formFiles(),
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
    entries.push({
      id: 'plaint-uiform', property: 'formUiSchemaFilename', label: 'uiFormFile',
      description: 'uiFormFileHelp',
      emptyLabel: 'noUiForm', choices: (c) => c.uiFiles(),
      component: PropertyChoice, isEdited: isSelectEntryEdited,
    });
  }
  if (isAny(element, STEPS)) {
    entries.push(text('plaint-statusLabel', 'statusLabel'));
  }
  if (is(element, 'bpmn:BoundaryEvent')) {
    entries.push(text('plaint-inboxFlag', 'inboxFlag'));
    entries.push({
      id: 'plaint-reminder', property: 'reminder', label: 'reminder',
      description: 'reminderHelp',
      component: PropertyFlag, isEdited: isCheckboxEntryEdited,
    });
  }
  if (isAny(element, ['bpmn:Activity', 'bpmn:IntermediateCatchEvent'])) {
    entries.push(text('plaint-pausesClock', 'pausesClock'));
    entries.push(text('plaint-promptVariable', 'promptVariable'));
  }
  if (is(element, 'bpmn:Activity')) {
    entries.push({
      id: 'plaint-preScript', type: 'spiffworkflow:PreScript', label: 'preScript', multiline: true,
      description: 'preScriptHelp',
      component: BodyExtension, isEdited: isTextAreaEntryEdited,
    });
    entries.push({
      id: 'plaint-postScript', type: 'spiffworkflow:PostScript', label: 'postScript', multiline: true,
      description: 'postScriptHelp',
      component: BodyExtension, isEdited: isTextAreaEntryEdited,
    });
  }
  if (isAny(element, STEPS)) {
    entries.push(text('plaint-milestone', 'milestone'));
    entries.push(text('plaint-notify', 'notify'));
    entries.push(text('plaint-notifyTo', 'notifyTo'));
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
  constructor(propertiesPanel, plaintContext) {
    this.text = plaintContext.text;
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
      const plaint = { id: 'plaint', label: this.text.plaintGroup, entries, component: Group };
      const general = kept.findIndex((group) => group.id === 'general');
      kept.splice(general + 1, 0, plaint);
      return kept;
    };
  }
}

PlaintPropertiesProvider.$inject = ['propertiesPanel', 'plaintContext'];

export default {
  __init__: ['plaintPropertiesProvider'],
  plaintPropertiesProvider: ['type', PlaintPropertiesProvider],
};
