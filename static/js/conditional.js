// Conditional forms: a field declared in a branch of the form's JSON Schema (if/then/else,
// dependentSchemas) is shown only while the answer it depends on is given, and a field made
// required by a condition carries the required mark only while it holds. formkit writes the
// conditions into data-shown-when and data-required-when; without this script every field
// shows and the server decides, with the same conditions. A hidden field is disabled, so
// it is not sent. Also moves the focus to the error summary when a form comes back with
// errors, and lets each of its links put the focus in the field it names.
(function () {
  "use strict";

  var CONTROLS = "input, select, textarea";

  function answer(form, name) {
    // The answer as a list of texts, or null when the field is not on the form (or hidden).
    var found = Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name && !el.disabled;
    });
    if (!found.length) {
      return null;
    }
    if (found.length === 1 && found[0].type === "checkbox") {
      return [found[0].checked ? "true" : "false"]; // an unticked yes/no box is a "no"
    }
    var picked = [];
    found.forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { picked.push(el.value); }
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (option) {
          if (option.value !== "") { picked.push(option.value); }
        });
      } else if (el.value.trim() !== "") {
        picked.push(el.value.trim());
      }
    });
    return picked;
  }

  function holds(condition, form) {
    if (condition.any) {
      return condition.any.some(function (c) { return holds(c, form); });
    }
    if (condition.all) {
      return condition.all.every(function (c) { return holds(c, form); });
    }
    if (condition.not) {
      return !holds(condition.not, form);
    }
    var given = answer(form, condition.field);
    if (given === null || !given.length) {
      return false;
    }
    if (condition.filled) {
      return true;
    }
    return given.length === 1 && condition.in.indexOf(given[0]) >= 0;
  }

  function show(box, visible) {
    if (box.hidden === !visible) {
      return false;
    }
    box.hidden = !visible;
    box.querySelectorAll(CONTROLS).forEach(function (el) { el.disabled = !visible; });
    return true;
  }

  function require(box, needed) {
    box.querySelectorAll("[data-required-mark]").forEach(function (mark) {
      mark.hidden = !needed;
    });
    // A required attribute on each box of a group would demand every box be ticked.
    box.querySelectorAll(CONTROLS).forEach(function (el) {
      if (el.type !== "checkbox" && el.type !== "hidden") { el.required = needed; }
    });
  }

  function update(form) {
    var boxes = form.querySelectorAll("[data-shown-when]");
    // A condition may read a field that is itself conditional: repeat until nothing moves.
    for (var round = 0; round <= boxes.length; round += 1) {
      var moved = false;
      boxes.forEach(function (box) {
        moved = show(box, holds(JSON.parse(box.dataset.shownWhen), form)) || moved;
      });
      if (!moved) { break; }
    }
    form.querySelectorAll("[data-required-when]").forEach(function (box) {
      require(box, holds(JSON.parse(box.dataset.requiredWhen), form));
    });
  }

  function focusField(event) {
    var target = document.getElementById(decodeURIComponent(this.hash.slice(1)));
    if (!target) {
      return;
    }
    event.preventDefault();
    var control = target.matches(CONTROLS) ? target : target.querySelector(CONTROLS);
    var label = document.querySelector('label[for="' + CSS.escape(target.id) + '"]');
    var group = target.closest("fieldset");
    var legend = group && group.querySelector("legend");
    var choice = control && (control.type === "radio" || control.type === "checkbox");
    ((choice && legend) || label || target).scrollIntoView();
    (control || target).focus({ preventScroll: true });
  }

  function start() {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-shown-when], [data-required-when]")) {
        update(form);
        form.addEventListener("change", function () { update(form); });
        form.addEventListener("input", function () { update(form); });
      }
    });
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.querySelectorAll("a[href^='#']").forEach(function (link) {
        link.addEventListener("click", focusField);
      });
      summary.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
