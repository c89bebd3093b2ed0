// The `translate` service bpmn-js, dmn-js and the properties panel ask for each text of their
// own interface ("Append task", "General" ...). The server hands the page a dictionary from
// those English templates to the person's language (config "editorText", built in
// server/web/studio_text.py); a template it lacks shows in English. Placeholders such as
// {element} are filled afterwards, as the libraries' own translate does.

/** A translate function over `dictionary` (English template -> text shown). */
export function makeTranslate(dictionary) {
  const known = dictionary || {};
  return (template, replacements = {}) => {
    const text = Object.prototype.hasOwnProperty.call(known, template) ? known[template] : template;
    return text.replace(/{([^}]+)}/g, (whole, key) => (
      Object.prototype.hasOwnProperty.call(replacements, key) ? String(replacements[key]) : whole));
  };
}

/** A module replacing the libraries' translate service (add it to additionalModules). */
export function translateModule(dictionary) {
  return { translate: ['value', makeTranslate(dictionary)] };
}
