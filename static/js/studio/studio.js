// The editor page: file tabs, saving, checking and deploying a draft.
//
// Each file gets a tab and an editor made the first time the tab is shown (bpmn-js cannot
// measure a hidden canvas). Saving stores every changed file, even when it has problems;
// the server answers with the problems of the whole draft, which are listed and marked.

import { Api, ApiError } from './api.js';
import { BpmnEditor } from './bpmn-editor.js';
import { showDeployed, showStale } from './deployed.js';
import { DmnEditor } from './dmn-editor.js';
import { FormEditor } from './form-editor.js';
import { FormPreview } from './form-preview.js';
import { counted } from './plural.js';
import { ProblemList } from './problems.js';
import { createTab, showTab, tabForKey } from './tabs.js';

const KIND_ORDER = { bpmn: 0, dmn: 1, form: 2, uiform: 3 };
const CONTENT_TYPES = { bpmn: 'application/xml', dmn: 'application/xml', form: 'application/json', uiform: 'application/json' };
const SCHEMA_SKELETON = '{\n  "type": "object",\n  "title": "",\n  "properties": {},\n  "required": []\n}\n';

/** A request the server refused with problems (a file too large, a bad name ...). */
class Refused extends Error {
  constructor(problems) {
    super(problems.map((p) => p.message).join('; '));
    this.problems = problems;
  }
}

// translations.ar.json ...: as engine/translations.py names them.
const TRANSLATIONS_FILE = /^translations\.[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?\.json$/;

export function kindOf(name) {
  if (TRANSLATIONS_FILE.test(name)) return 'translations';
  // SpiffArena's process_model.json names the primary diagram: kept, not edited here.
  if (name === 'process_model.json') return 'metadata';
  if (name.endsWith('.bpmn')) return 'bpmn';
  if (name.endsWith('.dmn')) return 'dmn';
  return name.endsWith('uischema.json') ? 'uiform' : 'form';
}

function roleSlug(name) {
  // As the server does (processes.role_slug): 'Complaint Handler' -> complaint_handler.
  return name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

export class Studio {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.text = config.text;
    this.api = new Api(config.urls, config.csrf_token, config.text);
    this.files = new Map();
    this.made = 0; // tabs made so far: ids stay unique when files are removed
    this.active = null;
    this.busy = false;
    this.el = (id) => root.querySelector(`#${id}`);
    const lanes = Object.fromEntries(Object.entries(config.lanes || {}).map(([k, v]) => [roleSlug(k), v]));
    const roles = config.roles || [];
    this.context = {
      roles,
      text: config.text,
      editorText: config.editorText || {},
      formFiles: () => this.namesOf('form'),
      uiFiles: () => this.namesOf('uiform'),
      laneRole: (name) => lanes[roleSlug(name)] || (roles.includes(roleSlug(name)) ? roleSlug(name) : null),
    };
    this.problems = new ProblemList({
      list: this.el('problems-list'),
      summary: this.el('problems-summary'),
      text: config.text,
      describe: (problem) => this.describe(problem),
      onPick: (problem) => this.goTo(problem),
    });
    this.formPreview = new FormPreview({ files: this.files, api: this.api, text: config.text });
  }

  start() {
    // A translations file is edited on its texts page (linked under the tabs), not here.
    // SpiffArena's process_model.json is told by its name (the server lists it as a form).
    const files = this.config.files
      .filter((f) => (f.kind || kindOf(f.name)) !== 'translations' && kindOf(f.name) !== 'metadata')
      .sort((a, b) => (KIND_ORDER[a.kind] - KIND_ORDER[b.kind]) || a.name.localeCompare(b.name));
    files.forEach((file) => this.addFile(file.name, file.kind || kindOf(file.name)));
    this.showProblems(this.config.problems || []);
    this.bind();
    this.firstFile(files).then((name) => name && this.select(name));
  }

  /**
   * The file to open first: the BPMN file with the process that runs (executable and not
   * called by another diagram), rather than whichever diagram sorts first.
   */
  async firstFile(files) {
    const diagrams = files.filter((f) => f.kind === 'bpmn');
    const found = [];
    const called = new Set();
    for (const { name } of diagrams) {
      const record = this.files.get(name);
      try {
        record.content = await this.api.readFile(name);
      } catch (err) {
        continue; // opening the tab will say what went wrong
      }
      const doc = new DOMParser().parseFromString(record.content, 'application/xml');
      for (const node of doc.getElementsByTagNameNS('*', 'callActivity')) {
        called.add(node.getAttribute('calledElement'));
      }
      for (const node of doc.getElementsByTagNameNS('*', 'process')) {
        if (node.getAttribute('isExecutable') === 'true') found.push([name, node.getAttribute('id')]);
      }
    }
    const main = found.find(([, id]) => !called.has(id));
    return main ? main[0] : files[0] && files[0].name;
  }

  /** The bpmn-js modeler of a BPMN file (by default the one shown), once its tab was shown. */
  bpmnModeler(name) {
    const file = name ? this.files.get(name) : this.active;
    return file && file.kind === 'bpmn' && file.editor ? file.editor.modeler : null;
  }

  namesOf(kind) {
    return [...this.files.values()].filter((f) => f.kind === kind).map((f) => f.name);
  }

  // ---- tabs ----

  addFile(name, kind) {
    const slug = `file-${this.made++}`;
    const template = this.el(`tpl-${kind === 'uiform' ? 'form' : kind}`);
    const kindLabel = { bpmn: 'BPMN', dmn: 'DMN', form: this.text.kindForm, uiform: this.text.kindUiForm }[kind];
    const parts = createTab({ name, kind, kindLabel, slug, unsavedMark: this.text.unsavedMark, template });
    parts.tab.addEventListener('click', () => this.select(name));
    this.el('studio-tabs').append(parts.tab);
    this.el('studio-panels').append(parts.panel);
    const file = { name, kind, slug, dirty: false, editor: null, loading: null, ...parts };
    this.files.set(name, file);
    return file;
  }

  async select(name) {
    const file = this.files.get(name);
    if (!file) return null;
    showTab(this.files.values(), file);
    this.active = file;
    await this.load(file);
    if (file.editor) file.editor.resized();
    return file;
  }

  // ---- editors ----

  load(file) {
    if (!file.loading) {
      file.loading = this.makeEditor(file).catch((err) => {
        const note = document.createElement('p');
        note.className = 'alert alert-danger';
        note.textContent = `${this.text.loadFailed} ${err.message}`;
        file.panel.prepend(note);
        file.editor = null;
      });
    }
    return file.loading;
  }

  async makeEditor(file) {
    const content = file.content ?? await this.api.readFile(file.name);
    delete file.content; // the editor holds the text from now on
    const q = (selector) => file.panel.querySelector(selector);
    const onChange = () => this.setDirty(file, true);
    let editor;
    if (file.kind === 'bpmn') {
      editor = new BpmnEditor({
        canvas: q('.studio-canvas'), panel: q('.studio-properties'), context: this.context, onChange,
      });
    } else if (file.kind === 'dmn') {
      editor = new DmnEditor({
        container: q('.studio-dmn'), viewSelect: q('select'), onChange,
        text: this.text, editorText: this.context.editorText,
      });
    } else {
      q('.studio-form-delete').addEventListener('click', () => this.deleteFile(file));
      editor = new FormEditor({
        name: file.name, kind: file.kind, editorEl: q('.studio-form-editor'),
        previewEl: q('.studio-form-preview-body'), label: `${this.text.formEditorLabel} ${file.name}`,
        text: this.text, onChange, preview: (form) => this.formPreview.render(form),
      });
    }
    const warnings = await editor.open(content);
    if (warnings && warnings.length) {
      console.warn(`${file.name}: import warnings`, warnings);
    }
    // Only a fully opened editor is offered to the rest of the page (and to tests).
    file.editor = editor;
    this.highlight();
  }

  setDirty(file, dirty) {
    file.dirty = dirty;
    file.dirtyMark.hidden = !dirty;
    this.el('studio-save').classList.toggle('btn-warning', this.anyDirty());
  }

  anyDirty() {
    return [...this.files.values()].some((f) => f.dirty);
  }

  // ---- problems ----

  showProblems(problems) {
    this.problems.show(problems);
    const counts = this.problems.countsByFile();
    for (const file of this.files.values()) {
      const count = counts.get(file.name) || 0;
      file.badge.hidden = count === 0;
      file.badge.textContent = String(count);
      file.badge.title = count ? counted(this.text.problemsInFile, count) : '';
    }
    this.highlight();
  }

  highlight() {
    const problems = this.problems.problems.filter((p) => p.element_id);
    for (const file of this.files.values()) {
      if (!file.editor) continue;
      // A BPMN element is marked whichever file the problem names (a bad form is reported
      // on its form file but concerns the task that uses it); DMN ids stay in their file.
      const ids = problems.filter((p) => file.kind === 'bpmn' || p.file === file.name).map((p) => p.element_id);
      file.editor.highlight(ids);
    }
  }

  describe(problem) {
    for (const file of this.files.values()) {
      if (file.kind === 'bpmn' && file.editor && file.editor.has(problem.element_id)) {
        const element = file.editor.get('elementRegistry').get(problem.element_id);
        const name = element.businessObject.name;
        return name ? `${name} (${problem.element_id})` : problem.element_id;
      }
    }
    return '';
  }

  async goTo(problem) {
    const links = this.el('studio-text-files');
    const textsPage = problem.file && links
      && [...links.querySelectorAll('a[data-file]')].find((a) => a.dataset.file === problem.file);
    if (textsPage) {
      window.location.assign(textsPage.href);
      return;
    }
    const named = this.files.get(problem.file);
    let target = named;
    if (!target || (named.kind !== 'form' && named.kind !== 'uiform' && problem.element_id && named.editor
        && !named.editor.has(problem.element_id))) {
      target = [...this.files.values()].find((f) => f.editor && f.editor.has(problem.element_id)) || named;
    }
    if (!target) {
      target = [...this.files.values()].find((f) => f.kind === 'bpmn');
      if (!target) return;
    }
    await this.select(target.name);
    if (!target.editor) return;
    if (target.kind === 'form' || target.kind === 'uiform') {
      target.editor.reveal(problem.line);
    } else if (problem.element_id) {
      target.editor.reveal(problem.element_id);
    }
  }

  // ---- saving, checking, deploying ----

  async run(label, work) {
    // One server operation at a time: a deploy must not overtake the save before it.
    if (this.busy) return null;
    this.busy = true;
    this.root.querySelectorAll('[data-busy-disable]').forEach((b) => { b.disabled = true; });
    this.status(label);
    try {
      return await work();
    } catch (err) {
      if (err instanceof Refused) {
        this.showProblems(err.problems);
        this.status(this.text.refused, 'danger');
      } else {
        this.status(err instanceof ApiError ? err.message : `${this.text.failed} ${err.message}`, 'danger');
      }
      return null;
    } finally {
      this.busy = false;
      this.root.querySelectorAll('[data-busy-disable]').forEach((b) => { b.disabled = false; });
    }
  }

  status(message, tone = 'secondary') {
    const line = this.el('studio-status');
    line.textContent = message;
    line.className = `studio-status text-${tone}`;
  }

  async saveChanged() {
    let problems = null;
    for (const file of this.files.values()) {
      if (file.editor) file.editor.flush();
    }
    for (const file of this.files.values()) {
      if (!file.dirty || !file.editor) continue;
      const text = await file.editor.text();
      const { ok, data } = await this.api.saveFile(file.name, text, CONTENT_TYPES[file.kind]);
      if (!ok) throw new Refused(data.problems); // the file stays marked unsaved
      this.setDirty(file, false);
      problems = data.problems || [];
    }
    return problems;
  }

  save() {
    return this.run(this.text.saving, async () => {
      let problems = await this.saveChanged();
      if (problems === null) {
        problems = (await this.api.validate()).data.problems || [];
      }
      this.showProblems(problems);
      this.status(problems.length ? this.text.savedWithProblems : this.text.savedClean,
        problems.length ? 'danger' : 'success');
    });
  }

  validate() {
    return this.run(this.text.checking, async () => {
      await this.saveChanged();
      const problems = (await this.api.validate()).data.problems || [];
      this.showProblems(problems);
      this.status(problems.length ? this.text.checkedWithProblems : this.text.checkedClean,
        problems.length ? 'danger' : 'success');
    });
  }

  deploy(comment) {
    return this.run(this.text.deploying, async () => {
      await this.saveChanged();
      const { ok, status, data } = await this.api.deploy(comment, this.confirmedReplace());
      if (status === 409 && data.stale) {
        showStale(this.el('studio-stale'), data.stale);
        this.status(this.text.notReplaced, 'danger');
        return;
      }
      if (!ok) {
        this.showProblems(data.problems);
        this.status(this.text.notDeployed, 'danger');
        return;
      }
      this.showProblems([]);
      this.status('');
      showDeployed(this.el('studio-deployed'), data, this.config.urls.index);
      // The draft became a version: nothing is left to save, and further edits would be
      // lost, so the controls are put away.
      for (const file of this.files.values()) this.setDirty(file, false);
      this.el('studio-actions').hidden = true;
    });
  }

  /** The id of the active version the person confirmed replacing, or null. */
  confirmedReplace() {
    const box = this.el('deploy-replace');
    return box && box.checked ? Number(box.value) : null;
  }

  // ---- files ----

  async createForm(rawName) {
    let name = rawName.trim();
    if (!name) return;
    if (!name.endsWith('.json')) name += '.json';
    if (this.files.has(name)) {
      this.select(name);
      return;
    }
    if (kindOf(name) === 'translations') {
      this.status(this.text.textsPage.replace('{name}', name), 'danger');
      return;
    }
    const added = await this.run(this.text.saving, async () => {
      const kind = kindOf(name);
      const skeleton = kind === 'uiform' ? '{}\n' : SCHEMA_SKELETON;
      const { ok, data } = await this.api.saveFile(name, skeleton, CONTENT_TYPES[kind]);
      if (!ok) throw new Refused(data.problems);
      this.addFile(name, kind);
      this.showProblems(data.problems || []);
      this.status(this.text.fileAdded.replace('{name}', name), 'success');
      return true;
    });
    if (added) {
      this.el('new-form-name').value = '';
      await this.select(name);
    }
  }

  async deleteFile(file) {
    if (!window.confirm(this.text.confirmDelete.replace('{name}', file.name))) return;
    const deleted = await this.run(this.text.saving, async () => {
      const { ok, data } = await this.api.deleteFile(file.name);
      if (!ok) throw new Refused(data.problems);
      if (file.editor) file.editor.destroy();
      file.tab.remove();
      file.panel.remove();
      this.files.delete(file.name);
      const problems = data && data.problems ? data.problems : (await this.api.validate()).data.problems || [];
      this.showProblems(problems);
      this.status(this.text.fileDeleted.replace('{name}', file.name), 'success');
      return true;
    });
    const first = this.files.keys().next();
    if (deleted && !first.done) this.select(first.value);
  }

  // ---- wiring ----

  bind() {
    this.el('studio-save').addEventListener('click', () => this.save());
    this.el('studio-validate').addEventListener('click', () => this.validate());
    this.el('studio-deploy').addEventListener('submit', (event) => {
      event.preventDefault();
      const comment = this.el('deploy-comment');
      if (!comment.reportValidity()) return;
      this.deploy(comment.value.trim());
    });
    this.el('studio-new-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.createForm(this.el('new-form-name').value);
    });
    this.el('studio-discard').addEventListener('submit', (event) => {
      if (!window.confirm(this.text.confirmDiscard)) {
        event.preventDefault();
      } else {
        for (const file of this.files.values()) this.setDirty(file, false);
      }
    });
    this.el('studio-tabs').addEventListener('keydown', (event) => {
      const next = tabForKey(this.el('studio-tabs'), event.key);
      if (next) {
        event.preventDefault();
        next.focus();
        this.select(next.dataset.file);
      }
    });
    document.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
        event.preventDefault();
        this.save();
      }
    });
    window.addEventListener('beforeunload', (event) => {
      if (this.anyDirty()) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
  }
}
