// On a phone, tables become stacked rows (static/css/plaint.css): each cell is labelled
// with its column's heading, copied here from the table's header row. Runs again after
// htmx swaps in new rows.
(function () {
  "use strict";

  function label(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
      if (!head) { return; }
      var names = Array.prototype.map.call(head.cells, function (cell) {
        return cell.textContent.replace(/\s+/g, " ").trim();
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label") && names[column]) {
              cell.setAttribute("data-label", names[column]);
            }
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.add("table-stacks");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { label(document); });
  // After an action posted through htmx (Claim, Release in the inbox) the button that was
  // pressed is gone: keyboard and screen-reader users land on what changed, its status
  // message if it has one. Filters (GET) leave the focus where it is.
  function settle(root) {
    var target = root.querySelector("[role=status], [role=alert]") || root;
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus({preventScroll: false});
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    label(event.target);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail && event.detail.requestConfig;
    var swapped = event.detail && event.detail.target;
    if (!config || config.verb !== "post") { return; }
    if (swapped && swapped.id && document.getElementById(swapped.id)) {
      settle(document.getElementById(swapped.id));
    }
  });
})();
