(function () {
  "use strict";
  // Live progress of an active run: polls the run's progress.json, keeps the bar monotone, shows the step,
  // the elapsed time and an estimate of what remains once enough is done; reloads when the run ends.
  // The contents list (and a link or URL with a section's #id) opens that collapsed section before going to it.
  function openSection(hash) {
    var target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
    if (!target) { return; }
    var section = target.querySelector("details.section") || target.closest("details.section");
    if (section && !section.open) { section.open = true; }
  }
  document.querySelectorAll("a[href^='#']").forEach(function (a) {
    a.addEventListener("click", function () { openSection(a.getAttribute("href")); });
  });
  window.addEventListener("hashchange", function () { openSection(window.location.hash); });
  openSection(window.location.hash);

  var live = document.getElementById("live");
  if (!live || live.dataset.terminal === "1") { return; }
  // What a screen reader hears (aria-live="polite"): the step when it changes, each tenth of progress, the
  // status; not the elapsed seconds, which change every second.
  var announce = document.getElementById("run-announce"), said = { stage: null, tenth: -1, status: null };
  function say(data, fraction) {
    var parts = [], tenth = Math.floor(fraction * 10);
    if (data.status !== said.status) { parts.push("Run " + data.status); said.status = data.status; }
    if (data.stage && data.stage !== said.stage) { parts.push(data.stage); said.stage = data.stage; }
    if (tenth !== said.tenth) { parts.push(Math.floor(fraction * 100) + "% done"); said.tenth = tenth; }
    if (parts.length && announce) { announce.textContent = parts.join(". ") + "."; }
  }
  var url = live.dataset.progressUrl, bar = document.getElementById("run-progress"),
      percent = document.getElementById("run-percent"), stage = document.getElementById("run-stage"),
      status = document.getElementById("run-status"), log = document.getElementById("run-log"),
      elapsedOut = document.getElementById("run-elapsed"), eta = document.getElementById("run-eta"),
      delay = 1500, best = Number(bar.value) || 0, started = null, fractionAt = null;

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? m + " min " + (s < 10 ? "0" : "") + s + " s" : s + " s";
  }
  function tick() {
    if (!started) { return; }
    var elapsed = (Date.now() - started) / 1000;
    elapsedOut.textContent = duration(elapsed);
    if (best >= 0.05 && best < 1 && fractionAt) {
      eta.textContent = "about " + duration(fractionAt.elapsed * (1 - best) / best - (elapsed - fractionAt.elapsed));
    }
  }
  function show(data) {
    var fraction = Math.max(best, data.fraction || 0);  // never goes back
    if (fraction > best) { best = fraction; fractionAt = { elapsed: data.elapsed_seconds || 0 }; }
    bar.value = best;
    percent.textContent = Math.floor(best * 100) + "%";
    stage.textContent = data.stage || (data.status === "queued" ? "waiting for a worker" : "");
    status.textContent = data.status;
    status.className = "badge status-" + data.status;
    if (data.started_at && !started) { started = Date.parse(data.started_at); }
    if (data.log_tail) { log.textContent = data.log_tail; }
    say(data, best);
    tick();
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        show(data);
        if (data.terminal) { window.location.reload(); return; }
        setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, delay * 2); });
  }
  if (live.dataset.started) { started = Date.parse(live.dataset.started); }
  setInterval(tick, 1000);
  poll();
})();
