(function () {
  "use strict";
  // The profile editor's live report: posts the unsaved form to preview.json as the user types and shows the
  // status, errors and warnings before saving; blank per-backend fields show what they derive to.
  function start() {
    var box = document.getElementById("regularization-report");
    var form = document.getElementById("regularizationprofile_form");
    if (!box || !form || !box.dataset.previewUrl) { return; }
    var status = document.getElementById("report-status"), errors = document.getElementById("report-errors"),
        warnings = document.getElementById("report-warnings"), timer = null, sent = 0;

    function fill(list, items) {
      list.textContent = "";
      items.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; list.appendChild(li); });
    }
    function show(data) {
      status.textContent = data.status;
      status.className = "report-status report-" + data.status;
      fill(errors, data.errors || []);
      fill(warnings, data.warnings || []);
      Object.keys(data.placeholders || {}).forEach(function (name) {
        var input = form.elements.namedItem(name);
        if (input && input.placeholder !== undefined) { input.placeholder = data.placeholders[name]; }
      });
      box.dataset.state = "fresh";
    }
    function refresh() {
      var body = new FormData(form), mine = ++sent;
      body.append("_profile_id", box.dataset.profileId || "");
      box.dataset.state = "updating";
      fetch(box.dataset.previewUrl, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { if (mine === sent) { show(data); } })
        .catch(function (error) {
          if (mine !== sent) { return; }
          box.dataset.state = "failed";  // say so: the report shown is no longer the form's
          status.textContent = "not updated (" + error.message + "); the report is checked again on save";
          status.className = "report-status report-warning";
        });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
