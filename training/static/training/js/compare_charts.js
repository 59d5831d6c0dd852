(function () {
  "use strict";
  // One chart per "regime · model" with each compared run's validation loss curve.
  var source = document.getElementById("compare-curve-data"), grid = document.getElementById("compare-curve-grid");
  if (!source || !grid || typeof Chart === "undefined") { return; }
  var curves = JSON.parse(source.textContent);
  var palette = ["#1f5fbf", "#c0392b", "#1b7f3b", "#8e44ad", "#b35c00", "#006d77", "#5d6778", "#1d2330"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = "#1d2330";
  Chart.defaults.font.size = 13;  // chart text at least 12 px (axes, ticks, legends)
  window.aresCharts = [];
  Object.keys(curves).forEach(function (title) {
    var runs = Object.keys(curves[title]), longest = 0;
    var datasets = runs.map(function (run, i) {
      longest = Math.max(longest, curves[title][run].length);
      return { label: "run " + run, data: curves[title][run], borderColor: palette[i % palette.length], pointRadius: 0, borderWidth: 2 };
    });
    var labels = [];
    for (var n = 1; n <= longest; n++) { labels.push(n); }
    var figure = document.createElement("figure");
    figure.className = "chart";
    var box = document.createElement("div");
    box.className = "chart-box";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Validation loss of " + title + " for runs " + runs.join(", "));
    box.appendChild(canvas);
    var caption = document.createElement("figcaption");
    caption.textContent = title + ": validation loss per epoch or round";
    figure.appendChild(box);
    figure.appendChild(caption);
    grid.appendChild(figure);
    window.aresCharts.push(new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { x: { title: { display: true, text: "epoch / round" } }, y: { title: { display: true, text: "data loss" } } } }
    }));
  });
})();
