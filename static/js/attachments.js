// Warns about a chosen document the server would refuse before the form is sent, so a
// long description is not lost to a refused upload. The server checks everything again;
// this only saves a round trip. Messages come translated from data-* attributes.
(function () {
  "use strict";

  function extension(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot).toLowerCase();
  }

  function problems(input) {
    var allowed = (input.getAttribute("accept") || "").split(",");
    var maxBytes = Number(input.dataset.maxBytes);
    var found = [];
    if (input.files.length > Number(input.dataset.maxFiles)) {
      found.push(input.dataset.tooMany);
    }
    Array.prototype.forEach.call(input.files, function (file) {
      if (allowed.indexOf(extension(file.name)) < 0) {
        found.push(input.dataset.wrongType.replace("{name}", file.name));
      } else if (file.size > maxBytes) {
        found.push(input.dataset.tooBig.replace("{name}", file.name));
      }
    });
    return found;
  }

  function show(input, found) {
    var box = document.getElementById(input.id + "-warning");
    var described = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter(function (id) { return id && id !== box.id; });
    box.textContent = "";
    box.hidden = found.length === 0;
    box.classList.toggle("d-block", found.length > 0);
    input.classList.toggle("is-invalid", found.length > 0);
    if (found.length) {
      found.concat([input.dataset.fix]).forEach(function (text) {
        var line = document.createElement("div");
        line.textContent = text;
        box.appendChild(line);
      });
      described.push(box.id);
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
    input.setAttribute("aria-describedby", described.join(" "));
  }

  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () { show(input, problems(input)); });
    input.form.addEventListener("submit", function (event) {
      var found = problems(input);
      show(input, found);
      if (found.length) {
        event.preventDefault();
        input.focus();
      }
    });
  });
}());
