// The file list as a vertical tab list: one tab and one panel per file of the draft.

/** Make the tab and panel of a file; the panel starts from the template of its kind. */
export function createTab({ name, kind, kindLabel, slug, unsavedMark, template }) {
  const tab = document.createElement('button');
  tab.type = 'button';
  tab.id = `${slug}-tab`;
  tab.className = `studio-tab studio-tab-${kind}`;
  tab.setAttribute('role', 'tab');
  tab.setAttribute('aria-selected', 'false');
  tab.setAttribute('aria-controls', `${slug}-panel`);
  tab.tabIndex = -1;
  tab.dataset.file = name;
  // What the file is (BPMN, DMN, form, UI), in the page's language, before its name.
  const kindMark = document.createElement('span');
  kindMark.className = 'studio-tab-kind';
  kindMark.textContent = kindLabel;
  const label = document.createElement('span');
  label.className = 'studio-tab-name';
  label.dir = 'ltr'; // a file name reads left to right on an Arabic page too
  label.textContent = name;
  const dirtyMark = document.createElement('span');
  dirtyMark.className = 'studio-tab-dirty';
  dirtyMark.hidden = true;
  dirtyMark.textContent = ` ${unsavedMark}`;
  const badge = document.createElement('span');
  badge.className = 'badge text-bg-danger ms-1';
  badge.hidden = true;
  tab.append(kindMark, label, dirtyMark, badge);

  const panel = document.createElement('div');
  panel.id = `${slug}-panel`;
  panel.className = 'studio-panel';
  panel.setAttribute('role', 'tabpanel');
  panel.setAttribute('aria-labelledby', tab.id);
  panel.hidden = true;
  panel.append(template.content.cloneNode(true));
  return { tab, panel, dirtyMark, badge };
}

/** Show one tab's panel and make it the one Tab reaches (roving tabindex). */
export function showTab(files, chosen) {
  for (const file of files) {
    const on = file === chosen;
    file.tab.setAttribute('aria-selected', String(on));
    file.tab.tabIndex = on ? 0 : -1;
    file.panel.hidden = !on;
  }
  chosen.tab.scrollIntoView({ block: 'nearest' });
}

const MOVES = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };

/** The tab an arrow, Home or End key moves to from the focused one, or null. */
export function tabForKey(tabList, key) {
  const tabs = [...tabList.querySelectorAll('[role=tab]')];
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return null;
  if (key in MOVES) return tabs[(index + MOVES[key] + tabs.length) % tabs.length];
  if (key === 'Home') return tabs[0];
  if (key === 'End') return tabs[tabs.length - 1];
  return null;
}
