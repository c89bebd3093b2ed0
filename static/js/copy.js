// A "copy" button for a link the page shows: <button data-copy-target="ID" hidden>.
// The button stays hidden without JavaScript (the link is there to select); here it is
// shown and copies the link's text, saying so in the status element "<button id>-status".
(function () {
  "use strict";

  function say(button, text) {
    var status = document.getElementById(button.id + "-status");
    if (status) { status.textContent = text; }
  }

  function fallback(text) {
    // Older browsers and pages not served over HTTPS have no navigator.clipboard.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) { return; }
    var text = (target.getAttribute("href") || target.textContent).trim();
    var copied = button.getAttribute("data-copied");
    var failed = button.getAttribute("data-failed");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say(button, copied); },
        function () { say(button, fallback(text) ? copied : failed); });
    } else {
      say(button, fallback(text) ? copied : failed);
    }
  }

  function start() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
