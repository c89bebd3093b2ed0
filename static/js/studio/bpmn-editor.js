// One BPMN file in the bpmn-js modeler, with the properties panel and problem markers.

import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import FlushableDebounceModule from './flushable-debounce.js';
import PlaintPropertiesModule from './plaint-provider.js';
import { MIN_READABLE_ZOOM, showReadable } from './readable-view.js';
import { spiffDescriptorFor } from './spiff-moddle.js';
import { translateModule } from './translate.js';

export const PROBLEM_MARKER = 'plaint-problem';

/**
 * Put back references that point at no element. SpiffWorkflow reads some of them as
 * variable names (loopDataInputRef/loopDataOutputRef hold "consultations", not an id);
 * moddle would drop them on import and the saved diagram would lose its loop. A dangling
 * lane entry is left out: bpmn-js recomputes lane members from the drawing.
 */
function keepUnresolvedReferences(warnings, moddle) {
  for (const { element, property, value } of warnings) {
    if (!element || !property || !value || property === 'bpmn:flowNodeRef') {
      continue;
    }
    const descriptor = element.$descriptor.propertiesByName[property];
    if (!descriptor || !descriptor.isReference) {
      continue;
    }
    const placeholder = moddle.create(descriptor.type, { id: value });
    if (descriptor.isMany) {
      element.get(property).push(placeholder);
    } else {
      element.set(property, placeholder);
    }
  }
}

export class BpmnEditor {
  constructor({ canvas, panel, context, onChange }) {
    this.canvasEl = canvas;
    this.panelEl = panel;
    this.context = context;
    this.onChange = onChange;
    this.modeler = null;
    this.marked = [];
    this.placed = false; // opened at a readable zoom yet (a hidden canvas cannot be)
  }

  async open(xml) {
    // The moddle package depends on the file (unknown spiffworkflow tags are kept), so
    // the modeler is made once the XML is known.
    this.modeler = new BpmnModeler({
      container: this.canvasEl,
      // The groups a process owner edits most start open.
      propertiesPanel: {
        parent: this.panelEl,
        layout: { groups: { general: { open: true }, plaint: { open: true } } },
      },
      additionalModules: [
        BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, PlaintPropertiesModule,
        FlushableDebounceModule,
        { plaintContext: ['value', this.context] },
        translateModule(this.context.editorText),
      ],
      moddleExtensions: { spiffworkflow: spiffDescriptorFor(xml) },
    });
    const { warnings } = await this.modeler.importXML(xml);
    keepUnresolvedReferences(warnings, this.modeler.get('moddle'));
    this.place();
    this.modeler.on('commandStack.changed', () => this.onChange());
    return warnings;
  }

  get(service) {
    return this.modeler.get(service);
  }

  /** Apply what was typed in the properties panel but not applied yet. */
  flush() {
    if (this.modeler) {
      this.get('debounceInput').flushAll();
    }
  }

  async text() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  /** Re-measure after the tab was hidden: bpmn-js cannot size a hidden canvas. */
  resized() {
    if (this.modeler) {
      this.modeler.get('canvas').resized();
      if (!this.placed) {
        this.place();
      }
    }
  }

  /** Open at a readable zoom with the process's start in view (readable-view.js). */
  place() {
    const start = this.get('elementRegistry').filter((e) => e.type === 'bpmn:StartEvent'
      && e.parent && ['bpmn:Participant', 'bpmn:Process'].includes(e.parent.type))[0];
    this.placed = showReadable(this.get('canvas'), start) !== null;
  }

  has(elementId) {
    return Boolean(this.modeler && elementId && this.get('elementRegistry').get(elementId));
  }

  /** Mark the elements named by problems; forget the marks of the previous check. */
  highlight(elementIds) {
    if (!this.modeler) {
      return;
    }
    const canvas = this.get('canvas');
    const registry = this.get('elementRegistry');
    for (const id of this.marked) {
      if (registry.get(id)) {
        canvas.removeMarker(id, PROBLEM_MARKER);
      }
    }
    this.marked = [...new Set(elementIds)].filter((id) => registry.get(id));
    for (const id of this.marked) {
      canvas.addMarker(id, PROBLEM_MARKER);
    }
  }

  /** Select an element, bring it into view and show its properties. */
  reveal(elementId) {
    const element = this.get('elementRegistry').get(elementId);
    if (!element) {
      return false;
    }
    const canvas = this.get('canvas');
    this.get('selection').select(element);
    // A whole process fitted on screen is too small to read: come close enough first.
    if (canvas.zoom() < MIN_READABLE_ZOOM) {
      canvas.zoom(1);
    }
    if (!element.waypoints) {
      canvas.scrollToElement(element, { top: 120, bottom: 120, left: 120, right: 120 });
    }
    return true;
  }

  /** The UI schema each form is shown with, as the diagram names them (for the preview). */
  formPairs() {
    const pairs = new Map();
    if (!this.modeler) {
      return pairs;
    }
    for (const element of this.get('elementRegistry').getAll()) {
      const values = element.businessObject?.extensionElements?.values || [];
      const props = values.find((v) => v.$type === 'spiffworkflow:Properties');
      const entries = Object.fromEntries((props?.properties || []).map((p) => [p.name, p.value]));
      if (entries.formJsonSchemaFilename && entries.formUiSchemaFilename) {
        pairs.set(entries.formJsonSchemaFilename, entries.formUiSchemaFilename);
      }
    }
    return pairs;
  }

  destroy() {
    if (this.modeler) {
      this.modeler.destroy();
    }
  }
}
