(function () {
  "use strict";
  // Draws the run page's charts with the vendored Chart.js from the JSON the page embeds (#run-chart-data):
  // regimes over price, learning curves and feature importance per regime. Hover shows values; "Enlarge"
  // widens a chart to the page's width.
  var source = document.getElementById("run-chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#1f5fbf", "#c0392b", "#1b7f3b", "#8e44ad", "#b35c00", "#006d77", "#5d6778"];
  var charts = [];
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#1d2330";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function empty(figure, text) {
    var box = figure.querySelector(".chart-box");
    box.textContent = text;
    box.className = "chart-empty muted";
    var button = figure.querySelector(".enlarge");
    if (button) { button.hidden = true; }
  }

  function regimesChart() {
    var figure = document.getElementById("chart-regimes");
    var s = data.series;
    if (!figure || !s.close.length) { if (figure) { empty(figure, "No price series stored."); } return; }
    var names = [];
    s.regime.forEach(function (r) { if (names.indexOf(r) < 0) { names.push(r); } });
    var datasets = [{ label: "close", data: s.close, borderColor: "#1d2330", borderWidth: 1, pointRadius: 0, order: 2 }];
    names.forEach(function (name) {
      datasets.push({
        label: name, type: "scatter", order: 1, pointRadius: 1.6, borderWidth: 0,
        backgroundColor: data.colors[name] || "#777",
        data: s.close.map(function (c, i) { return s.regime[i] === name ? { x: s.time[i], y: c } : null; })
                     .filter(function (p) { return p; })
      });
    });
    charts.push(new Chart(figure.querySelector("canvas"), {
      type: "line",
      data: { labels: s.time, datasets: datasets },
      options: {
        interaction: { mode: "nearest", intersect: false },
        scales: { x: { type: "category", ticks: { maxTicksLimit: 8, maxRotation: 0 } }, y: { title: { display: true, text: "close" } } }
      }
    }));
  }

  // One chart per unit of the models' histories (boosting rounds, epochs): each gets its own x axis, so a curve of
  // a few epochs is not a speck beside hundreds of rounds. The first unit draws in the page's figure, the others
  // in copies of it placed right after.
  function curvesCharts(figure, regime) {
    var byUnit = (data.regimes[regime] || {}).curves || {};
    var units = Object.keys(byUnit);
    if (!units.length) { empty(figure, "No learning curves: these models train in one step (no epochs or rounds)."); return; }
    var at = figure;
    units.forEach(function (unit, i) {
      var target = figure;
      if (i > 0) {
        target = figure.cloneNode(true);
        at.after(target);
        at = target;
      }
      var caption = target.querySelector(".curves-unit");
      if (caption) { caption.textContent = "per " + unit; }
      target.querySelector("canvas").setAttribute("aria-label",
        "Learning curves of the " + regime + " models trained by " + unit + ": data loss per " + unit + ", train and validation");
      curvesChart(target, byUnit[unit], unit);
    });
  }

  function curvesChart(figure, curves, unit) {
    var keys = Object.keys(curves);
    var datasets = [], longest = 0;
    keys.forEach(function (key, i) {
      var color = palette[i % palette.length];
      longest = Math.max(longest, curves[key].train.length, curves[key].validation.length);
      datasets.push({ label: key + " train", data: curves[key].train, borderColor: color, borderDash: [5, 4], pointRadius: 0, borderWidth: 2 });
      if (curves[key].validation.length) {
        datasets.push({ label: key + " validation", data: curves[key].validation, borderColor: color, pointRadius: 0, borderWidth: 2 });
      }
    });
    var labels = [];
    for (var n = 1; n <= longest; n++) { labels.push(n); }
    charts.push(new Chart(figure.querySelector("canvas"), {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { x: { title: { display: true, text: unit } }, y: { title: { display: true, text: "data loss" } } }
      }
    }));
  }

  function importanceChart(figure, regime) {
    var importance = (data.regimes[regime] || {}).importance || {};
    var keys = Object.keys(importance);
    if (!keys.length) { empty(figure, "No feature importance stored."); return; }
    var features = importance[keys[0]].features.slice();
    keys.slice(1).forEach(function (k) {
      importance[k].features.forEach(function (f) { if (features.indexOf(f) < 0) { features.push(f); } });
    });
    features = features.slice(0, 12);
    // every feature's name shown (no skipped labels): the box grows with the number of bars
    figure.querySelector(".chart-box").style.height = Math.max(280, 60 + features.length * keys.length * 9 + features.length * 14) + "px";
    var datasets = keys.map(function (key, i) {
      var m = importance[key];
      return { label: key, backgroundColor: palette[i % palette.length],
               data: features.map(function (f) { var j = m.features.indexOf(f); return j < 0 ? 0 : m.shares[j]; }) };
    });
    charts.push(new Chart(figure.querySelector("canvas"), {
      type: "bar",
      data: { labels: features, datasets: datasets },
      options: {
        indexAxis: "y",
        scales: { x: { title: { display: true, text: "share of the model's total importance" } },
                  y: { ticks: { autoSkip: false } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.parsed.x * 100).toFixed(1) + "%"; } } } }
      }
    }));
  }

  regimesChart();
  document.querySelectorAll("figure.chart[data-chart]").forEach(function (figure) {
    if (figure.dataset.chart === "curves") { curvesCharts(figure, figure.dataset.regime); }
    else { importanceChart(figure, figure.dataset.regime); }
  });
  document.querySelectorAll("figure.chart .enlarge").forEach(function (button) {
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function () {
      var figure = button.closest("figure");
      var on = figure.classList.toggle("enlarged");
      button.textContent = on ? "Shrink" : "Enlarge";
      button.setAttribute("aria-expanded", on ? "true" : "false");
      charts.forEach(function (c) { c.resize(); });
    });
  });
  // a chart drawn inside a closed section has no size: redraw when the section opens
  document.querySelectorAll("details.section").forEach(function (section) {
    section.addEventListener("toggle", function () { if (section.open) { charts.forEach(function (c) { c.resize(); }); } });
  });
  window.aresCharts = charts;  // the browser tests read how many were drawn
})();
