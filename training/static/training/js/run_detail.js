(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || live.dataset.terminal === "1") { return; }
  var api = live.dataset.api, bar = document.getElementById("run-progress"),
      stage = document.getElementById("run-stage"), status = document.getElementById("run-status"),
      log = document.getElementById("run-log"), delay = 1500;
  function poll() {
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        bar.value = data.progress.fraction;
        stage.textContent = data.progress.stage || "";
        status.textContent = data.status;
        status.className = "badge status-" + data.status;
        if (data.log_tail) { log.textContent = data.log_tail; }
        if (data.terminal) { window.location.reload(); return; }
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, delay * 2); });
  }
  setTimeout(poll, delay);
})();
