// The properties panel waits 300 ms after typing before it changes the diagram. Saving
// must not miss a change typed just before clicking Save, so this replaces the panel's
// `debounceInput` service with one whose pending calls can all be run at once.
//
// They also run before another element is selected: applied later (when the old entry
// unmounts), the change would make the panel jump back to the element it belongs to.

import { debounce } from 'min-dash';

const DELAY_MS = 300;

function FlushableDebounce(eventBus) {
  const pending = new Set();

  function debounceInput(fn) {
    const debounced = debounce((...args) => {
      pending.delete(debounced);
      return fn(...args);
    }, DELAY_MS);
    const call = (...args) => {
      pending.add(debounced);
      return debounced(...args);
    };
    call.flush = () => debounced.flush();
    call.cancel = () => {
      pending.delete(debounced);
      debounced.cancel();
    };
    return call;
  }

  debounceInput.flushAll = () => {
    for (const debounced of [...pending]) {
      debounced.flush();
    }
  };
  // Before the properties panel (priority 1000) reacts to the new selection.
  eventBus.on('selection.changed', 1500, () => debounceInput.flushAll());
  return debounceInput;
}

FlushableDebounce.$inject = ['eventBus'];

export default {
  debounceInput: ['factory', FlushableDebounce],
};
