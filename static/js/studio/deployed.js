// The answers to a deploy: the new version's number and what changed, or the warning that
// the draft would replace another version than it was made from.

function describe(item) {
  // Elements come as {id, name, type, file}; files as their names.
  if (typeof item === 'string') return item;
  const where = [item.type, item.file].filter(Boolean).join(', ');
  return `${item.name || item.id}${where ? ` (${where})` : ''}`;
}

function fill(box, field, items) {
  const cell = box.querySelector(`[data-field=${field}]`);
  if (!items || !items.length) {
    cell.textContent = '–';
    return;
  }
  const list = document.createElement('ul');
  list.className = 'list-inline mb-0';
  list.replaceChildren(...items.map((item) => {
    const entry = document.createElement('li');
    entry.className = 'list-inline-item';
    entry.textContent = describe(item);
    return entry;
  }));
  cell.replaceChildren(list);
}

export function showDeployed(box, data, fallbackUrl) {
  const diff = data.diff || {};
  const files = diff.files || {};
  box.querySelector('[data-field=version]').textContent = String(data.version);
  fill(box, 'added', diff.added);
  fill(box, 'removed', diff.removed);
  fill(box, 'changed', diff.changed);
  fill(box, 'files', [...(files.added || []), ...(files.removed || []), ...(files.changed || [])]);
  box.querySelector('[data-field=redirect]').href = data.redirect || fallbackUrl;
  box.hidden = false;
  box.focus();
}

/**
 * Show the warning that another version is active than the draft was made from. The server
 * draws it (the partial the editor shows on opening), so it reads the same both ways.
 */
export function showStale(box, html) {
  box.innerHTML = html;
  box.hidden = false;
  box.focus();
}
