(function () {
  "use strict";
  // The schedule form's crontab preview: the expression in words and its next five fire times, or what is wrong
  // with it field by field, as the user types (GET preview.json).
  function start() {
    var box = document.getElementById("crontab-preview"), input = document.querySelector("input[name=crontab]");
    if (!box || !input) { return; }
    var words = document.getElementById("crontab-description"), next = document.getElementById("crontab-next"),
        errors = document.getElementById("crontab-errors"), timer = null, sent = 0;
    function fill(list, items) {
      list.textContent = "";
      items.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    }
    function refresh() {
      var mine = ++sent;
      fetch(box.dataset.previewUrl + "?crontab=" + encodeURIComponent(input.value), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          if (mine !== sent) { return; }
          words.textContent = data.description; fill(next, data.next); fill(errors, data.errors);
          box.dataset.state = data.ok ? "ok" : "error";
        })
        .catch(function (error) { if (mine === sent) { fill(errors, ["preview not available (" + error.message + ")"]); } });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    refresh();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
