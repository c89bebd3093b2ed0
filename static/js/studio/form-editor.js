// A JSON Schema (or UI schema) file: a CodeMirror editor and a live preview rendered by the
// server with the same renderer as the task page.
//
// CodeMirror comes with the properties panel (its JSON editor entry), so no package is
// added for it. Tab is left to move focus, so the editor never traps keyboard users.

import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, linter } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';

const PREVIEW_DELAY_MS = 400;

export class FormEditor {
  constructor({ name, kind, editorEl, previewEl, label, text, onChange, preview }) {
    this.name = name;
    this.kind = kind;
    this.editorEl = editorEl;
    this.previewEl = previewEl;
    this.label = label;
    this.messages = text;
    this.onChange = onChange;
    this.preview = preview; // async (editor) -> { html } | { problems } | { error }
    this.view = null;
    this.timer = null;
    this.sequence = 0;
  }

  async open(content) {
    this.view = new EditorView({
      parent: this.editorEl,
      state: EditorState.create({
        doc: content,
        extensions: [
          lineNumbers(), history(), bracketMatching(), highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle), json(), linter(jsonParseLinter()), lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': this.label }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) {
              this.onChange();
              this.schedulePreview();
            }
          }),
        ],
      }),
    });
    this.refreshPreview();
    return [];
  }

  flush() {}

  async text() {
    return this.view.state.doc.toString();
  }

  schedulePreview() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refreshPreview(), PREVIEW_DELAY_MS);
  }

  async refreshPreview() {
    // Answers can overtake each other; only the newest request may paint the preview.
    const mine = ++this.sequence;
    let result;
    try {
      result = await this.preview(this);
    } catch (err) {
      result = { error: err.message };
    }
    if (mine !== this.sequence) {
      return;
    }
    this.previewEl.setAttribute('aria-busy', 'false');
    if (result.html !== undefined) {
      // Server-rendered by our form renderer, which escapes what the schema says.
      this.previewEl.innerHTML = result.html;
      return;
    }
    const list = document.createElement('ul');
    list.className = 'plaint-preview-problems';
    const messages = result.problems ? result.problems.map((p) => p.message) : [result.error];
    list.replaceChildren(...messages.map((message) => {
      const item = document.createElement('li');
      item.textContent = message;
      return item;
    }));
    const heading = document.createElement('p');
    heading.textContent = this.messages.previewFailed;
    this.previewEl.replaceChildren(heading, list);
  }

  resized() {
    if (this.view) {
      this.view.requestMeasure();
    }
  }

  has() {
    return false;
  }

  highlight() {}

  reveal(line) {
    if (!this.view || !line) {
      return;
    }
    const doc = this.view.state.doc;
    const target = doc.line(Math.min(Math.max(line, 1), doc.lines));
    this.view.dispatch({ selection: { anchor: target.from }, scrollIntoView: true });
    this.view.focus();
  }

  formPairs() {
    return new Map();
  }

  destroy() {
    clearTimeout(this.timer);
    if (this.view) {
      this.view.destroy();
    }
  }
}
