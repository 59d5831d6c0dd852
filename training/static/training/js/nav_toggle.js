(function () {
  "use strict";
  // On a phone the main navigation folds behind one "Menu" button so the top bar stays one row.
  function start() {
    var nav = document.getElementById("mainnav"), button = document.getElementById("nav-toggle");
    if (!nav || !button) { return; }
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open"); button.setAttribute("aria-expanded", "false"); button.focus();
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
