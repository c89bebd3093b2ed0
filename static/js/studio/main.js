// Entry point of the studio bundle (static/vendor/studio/studio.js): starts the editor page
// from the configuration the server put in a JSON block (never inline script).

import { Studio } from './studio.js';

function start() {
  const root = document.querySelector('[data-studio]');
  const source = document.getElementById('studio-config');
  if (!root || !source) {
    return;
  }
  const studio = new Studio(root, JSON.parse(source.textContent));
  studio.start();
  // A handle for browser tests and the console: window.plaintStudio.bpmnModeler().
  window.plaintStudio = studio;
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
