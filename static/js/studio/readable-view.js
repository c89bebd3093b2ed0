// Where a diagram opens: at a zoom people can read, its top left just right of the palette.
//
// bpmn-js's 'fit-viewport' shrinks a whole process into the canvas: the reference process
// came out at a third of its size, with its start under the palette. Here the whole
// diagram is shown only when it fits at a readable zoom; otherwise the zoom stays readable
// and the diagram opens at its top left (where a process starts), with the start event in
// view.

export const MIN_READABLE_ZOOM = 0.75;
const MAX_ZOOM = 1;
const MARGIN = 24; // px between the palette (or the canvas edge) and the diagram

/** How far (px) the palette reaches into the canvas from its left edge; 0 without one. */
function paletteRight(container) {
  const palette = container.querySelector('.djs-palette');
  if (!palette || palette.offsetParent === null) {
    return 0;
  }
  return palette.getBoundingClientRect().right - container.getBoundingClientRect().left;
}

/**
 * Zoom and scroll a diagram-js `canvas` so the diagram opens readable; `focus`, when given,
 * is an element to keep in view (the start event). Returns the zoom chosen, or null when
 * the canvas cannot be measured (a hidden tab).
 */
export function showReadable(canvas, focus = null) {
  canvas.resized(); // the size diagram-js cached may be from before the canvas was shown
  const { inner, outer } = canvas.viewbox();
  if (!outer.width || !outer.height || !inner.width || !inner.height) {
    return null;
  }
  const left = paletteRight(canvas.getContainer()) + MARGIN;
  const fits = Math.min((outer.width - left - MARGIN) / inner.width,
    (outer.height - 2 * MARGIN) / inner.height);
  const scale = Math.min(MAX_ZOOM, Math.max(MIN_READABLE_ZOOM, fits));
  const width = outer.width / scale;
  const height = outer.height / scale;
  let y = inner.y - MARGIN / scale;
  if (focus && focus.y + focus.height > y + height - MARGIN / scale) {
    // The start is below what shows: bring it to the upper third, as far as the diagram goes.
    y = Math.max(y, focus.y - height / 3);
  }
  canvas.viewbox({ x: inner.x - left / scale, y, width, height });
  return scale;
}
