(function () {
  "use strict";
  // The sweep's curves: per swept parameter and regime, each model's validation log loss against the swept value
  // (log10 positions; 0 one decade left of the smallest value) with its 95 % interval shaded, the seeds' spread
  // dashed when there are several, and the same model's train−validation gap; the best point as a vertical line.
  var source = document.getElementById("sweep-curve-data");
  if (!source || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(source.textContent);
  var colors = { ensemble: "#111827", lightgbm: "#2563eb", logreg: "#16a34a", lstm: "#dc2626", transformer: "#9333ea", tabnet: "#ea580c" };
  var fallback = ["#0891b2", "#be185d", "#65a30d", "#78716c"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = "#1d2330";
  Chart.defaults.font.size = 13;  // chart text at least 12 px (axes, ticks, legends)
  window.aresSweepCharts = [];

  function color(model, i) { return colors[model] || fallback[i % fallback.length]; }
  function tick(zeroAt) {
    return function (value) {
      if (zeroAt !== null && Math.abs(value - zeroAt) < 1e-9) { return "0"; }
      return Number(Math.pow(10, value).toPrecision(3)).toString();
    };
  }
  function bestLine(chart, points) {
    if (chart.best_x === null || !points.length) { return null; }
    var ys = points.filter(function (v) { return v !== null && isFinite(v); });
    var low = Math.min.apply(null, ys), high = Math.max.apply(null, ys);
    return { label: "best point", data: [{ x: chart.best_x, y: low }, { x: chart.best_x, y: high }], borderColor: "#6b7280",
             borderDash: [2, 3], borderWidth: 1, pointRadius: 0, fill: false, band: true };
  }
  function draw(figure, chart, metric) {
    var datasets = [], all = [];
    Object.keys(chart.series).forEach(function (model, i) {
      var pts = chart.series[model], c = color(model, i);
      if (metric === "loss") {
        datasets.push({ label: model + " low", data: pts.map(function (p) { return { x: p.x, y: p.low }; }), borderWidth: 0, pointRadius: 0, fill: false, band: true });
        datasets.push({ label: model + " 95 %", data: pts.map(function (p) { return { x: p.x, y: p.high }; }), borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: c + "33", band: true });
        datasets.push({ label: model, data: pts.map(function (p) { return { x: p.x, y: p.y }; }), borderColor: c, backgroundColor: c, borderWidth: 2, pointRadius: 3, fill: false });
        if (pts.some(function (p) { return p.seeds > 1; })) {
          [1, -1].forEach(function (sign) {
            datasets.push({ label: model + " seed spread", data: pts.map(function (p) { return { x: p.x, y: p.y + sign * p.seed_spread }; }), borderColor: c, borderDash: [4, 4], borderWidth: 1, pointRadius: 0, fill: false, band: true });
          });
        }
        pts.forEach(function (p) { all.push(p.low, p.high); });
      } else {
        datasets.push({ label: model, data: pts.filter(function (p) { return p.gap !== null; }).map(function (p) { return { x: p.x, y: p.gap }; }), borderColor: c, backgroundColor: c, borderWidth: 2, pointRadius: 3, fill: false });
        pts.forEach(function (p) { if (p.gap !== null) { all.push(p.gap); } });
      }
    });
    var best = bestLine(chart, all);
    if (best) { datasets.push(best); }
    var instance = new Chart(figure.querySelector("canvas"), {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: true,
        interaction: { mode: "nearest", intersect: false },
        plugins: { legend: { labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].band; } } } },
        scales: {
          x: { type: "linear", title: { display: true, text: chart.param + " (log scale)" }, ticks: { callback: tick(chart.zero_at) } },
          y: { title: { display: true, text: metric === "loss" ? "validation log loss" : "validation − train log loss" } }
        }
      }
    });
    window.aresSweepCharts.push({ param: chart.param, regime: chart.regime, metric: metric, chart: instance });
  }
  document.querySelectorAll("[data-sweep-chart]").forEach(function (figure) {
    var chart = charts[Number(figure.getAttribute("data-sweep-chart"))];
    if (chart) { draw(figure, chart, figure.getAttribute("data-metric")); }
  });
})();
(function () {
  "use strict";
  // Optimization history and, with two or more axes, parallel coordinates (each point a line over its swept values).
  var source = document.getElementById("sweep-history-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent), rows = data.history;
  window.aresSweepCharts = window.aresSweepCharts || [];
  var history = document.querySelector("#chart-history canvas");
  if (history) {
    window.aresSweepCharts.push({ metric: "history", chart: new Chart(history, { type: "line", data: { datasets: [
      { label: "objective", data: rows.map(function (r) { return { x: r.point, y: r.objective }; }), showLine: false, pointRadius: 4, borderColor: "#2563eb", backgroundColor: "#2563eb" },
      { label: "best so far", data: rows.map(function (r) { return { x: r.point, y: r.best_so_far }; }), stepped: true, pointRadius: 0, borderColor: "#111827" }
    ] }, options: { scales: { x: { type: "linear", title: { display: true, text: "point" } }, y: { title: { display: true, text: "objective" } } } } }) });
  }
  var parallel = document.querySelector("#chart-parallel canvas");
  if (parallel && data.params.length > 1 && rows.length) {
    var axes = data.params.concat(["objective"]);
    function pos(v) { return v > 0 ? Math.log10(v) : null; }
    var ranges = axes.map(function (axis) {
      var vs = rows.map(function (r) { return axis === "objective" ? r.objective : pos(r.values[axis]); }).filter(function (v) { return v !== null; });
      return [Math.min.apply(null, vs), Math.max.apply(null, vs)];
    });
    var objective = ranges[ranges.length - 1];
    var datasets = rows.map(function (r) {
      var shade = objective[1] > objective[0] ? (r.objective - objective[0]) / (objective[1] - objective[0]) : 0;
      var values = axes.map(function (axis, i) {
        var v = axis === "objective" ? r.objective : pos(r.values[axis]);
        if (v === null) { return 0; }
        return ranges[i][1] > ranges[i][0] ? (v - ranges[i][0]) / (ranges[i][1] - ranges[i][0]) : 0.5;
      });
      var grey = Math.round(40 + 180 * shade);
      return { label: "point " + r.point, data: values, borderColor: "rgb(" + grey + "," + grey + "," + (grey + 30) + ")", pointRadius: 2 };
    });
    window.aresSweepCharts.push({ metric: "parallel", chart: new Chart(parallel, { type: "line", data: { labels: axes, datasets: datasets },
      options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 1, title: { display: true, text: "scaled 0–1" } } } } }) });
  }
})();
