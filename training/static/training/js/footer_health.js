(function () {
  "use strict";
  // The footer's health dot: /healthz answered 200 (everything up) is green, 503 names what is down.
  function start() {
    var dot = document.getElementById("health-dot"), text = document.getElementById("health-text"),
        link = document.getElementById("health-link");
    if (!dot || !text || !link) { return; }
    fetch(link.getAttribute("href"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var ok = data.status === "ok";
        dot.className = "health-dot " + (ok ? "health-ok" : "health-fail");
        text.textContent = ok ? "healthy" : "down: " + (data.failed || []).join(", ").replace("_", " ");
      })
      .catch(function () { dot.className = "health-dot health-fail"; text.textContent = "health unknown"; });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
