// One DMN file in the dmn-js modeler: the decision requirements diagram and its tables.

import DmnModeler from 'dmn-js/lib/Modeler';

import { showReadable } from './readable-view.js';
import { translateModule } from './translate.js';

// Table cells are re-rendered on every edit, so problems are marked by a style sheet that
// matches their ids rather than by classes that would be lost.
let problemSheet = null;
const marked = new Map(); // editor -> ids

function restyle() {
  const ids = [...new Set([...marked.values()].flat())];
  const rules = ids.map((id) => {
    const value = CSS.escape(id);
    return `.plaint-dmn [data-element-id="${value}"] .djs-visual > :first-child `
      + '{ stroke: var(--plaint-problem) !important; stroke-width: 3px !important; }\n'
      + `.plaint-dmn td[data-element-id="${value}"], .plaint-dmn td[data-row-id="${value}"] `
      + '{ box-shadow: inset 0 0 0 2px var(--plaint-problem); }';
  });
  if (!problemSheet) {
    problemSheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, problemSheet];
  }
  problemSheet.replaceSync(rules.join('\n'));
}

function holds(node, id, seen = new Set()) {
  if (!node || typeof node !== 'object' || seen.has(node)) {
    return false;
  }
  seen.add(node);
  if (node.id === id) {
    return true;
  }
  return Object.keys(node).some((key) => !key.startsWith('$') && holds(node[key], id, seen));
}

export class DmnEditor {
  constructor({ container, viewSelect, onChange, text, editorText }) {
    this.text = text;
    this.editorText = editorText;
    this.container = container;
    this.viewSelect = viewSelect;
    this.onChange = onChange;
    this.watched = new WeakSet();
    this.placed = new WeakSet(); // requirement diagrams opened at a readable zoom
    this.modeler = null;
  }

  async open(xml) {
    // Each view (requirements diagram, table ...) is a modeler of its own: each gets the
    // translate service (dmn-js passes a view's own options on, not shared modules).
    const translated = { additionalModules: [translateModule(this.editorText)] };
    this.modeler = new DmnModeler({
      container: this.container,
      drd: translated, decisionTable: translated, literalExpression: translated, boxedExpression: translated,
    });
    this.modeler.on('views.changed', ({ views, activeView }) => {
      this.listViews(views, activeView);
      this.watchActiveViewer();
    });
    this.viewSelect.addEventListener('change', () => {
      const view = this.modeler.getViews().find((v) => v.element.id === this.viewSelect.value);
      if (view) {
        this.modeler.open(view);
      }
    });
    const { warnings } = await this.modeler.importXML(xml);
    return warnings;
  }

  listViews(views, activeView) {
    this.viewSelect.replaceChildren(...views.map((view) => {
      const option = document.createElement('option');
      option.value = view.element.id;
      const template = view.type === 'drd' ? this.text.requirementsView : this.text.decisionView;
      option.textContent = template.replace('{name}', view.element.name || view.element.id);
      option.selected = activeView && view.element === activeView.element;
      return option;
    }));
  }

  watchActiveViewer() {
    const viewer = this.modeler.getActiveViewer();
    if (viewer && !this.watched.has(viewer)) {
      this.watched.add(viewer);
      viewer.on('elements.changed', () => this.onChange());
    }
    const canvas = viewer && viewer.get('canvas', false);
    if (canvas) {
      canvas.resized();
      if (!this.placed.has(viewer) && showReadable(canvas) !== null) {
        this.placed.add(viewer);
      }
    }
  }

  flush() {}

  async text() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  resized() {
    if (this.modeler) {
      this.watchActiveViewer();
    }
  }

  has(elementId) {
    return Boolean(this.modeler && elementId && holds(this.modeler.getDefinitions(), elementId));
  }

  highlight(elementIds) {
    marked.set(this, elementIds);
    restyle();
  }

  /** Open the view (diagram or table) that holds the element. */
  reveal(elementId) {
    const views = this.modeler.getViews();
    const view = views.find((v) => v.type !== 'drd' && holds(v.element, elementId))
      || views.find((v) => v.type === 'drd');
    if (!view) {
      return false;
    }
    const shown = this.modeler.getActiveView();
    const opened = shown && shown.element === view.element ? Promise.resolve() : this.modeler.open(view);
    opened.then(() => {
      const cell = this.container.querySelector(
        `[data-element-id="${CSS.escape(elementId)}"], [data-row-id="${CSS.escape(elementId)}"]`);
      if (cell) {
        cell.scrollIntoView({ block: 'center' });
      }
    });
    return true;
  }

  formPairs() {
    return new Map();
  }

  destroy() {
    marked.delete(this);
    restyle();
    if (this.modeler) {
      this.modeler.destroy();
    }
  }
}
