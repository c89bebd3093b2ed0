// What the form preview sends: a schema and the UI schema that goes with it, as the
// diagram pairs them (a task naming both) or, failing that, by name (x-schema.json and
// x-uischema.json). Unsaved text is used, so the preview follows the typing.

export class FormPreview {
  constructor({ files, api, text }) {
    this.files = files; // name -> file record of the studio
    this.api = api;
    this.text = text;
  }

  pairs() {
    const pairs = new Map();
    for (const file of this.files.values()) {
      if (file.editor) file.editor.formPairs().forEach((ui, schema) => pairs.set(schema, ui));
    }
    return pairs;
  }

  /** A form file's current text (unsaved edits included), or null when there is no such file. */
  async formText(name) {
    const file = this.files.get(name);
    if (!file) return null;
    if (file.editor) return file.editor.text();
    try {
      return await this.api.readFile(name);
    } catch (err) {
      return null;
    }
  }

  /** Ask the server to draw the form being edited: { html } or { problems } or { error }. */
  async render(editor) {
    // The texts go as they are: the server says what is wrong with them, JSON errors included.
    const own = await editor.text();
    const pairs = this.pairs();
    let schema = own;
    let uischema = '';
    if (editor.kind === 'uiform') {
      const schemaName = [...pairs].find(([, ui]) => ui === editor.name)?.[0]
        || editor.name.replace(/-?uischema\.json$/, '-schema.json');
      schema = await this.formText(schemaName);
      if (schema === null) return { error: this.text.noSchemaForUi };
      uischema = own;
    } else {
      const uiName = pairs.get(editor.name) || editor.name.replace(/-?schema\.json$/, '-uischema.json');
      uischema = uiName !== editor.name ? (await this.formText(uiName)) || '' : '';
    }
    const { ok, data } = await this.api.preview(schema, uischema);
    return ok ? { html: typeof data === 'string' ? data : '' } : { problems: data.problems };
  }
}
