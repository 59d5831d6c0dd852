(function () {
  "use strict";
  // Per "regime · model": its train and its validation loss side by side, one line per compared run, the x axis
  // in the model's own steps (epochs or boosting rounds), so rounds and epochs never share an axis.
  var source = document.getElementById("compare-curve-data"), grid = document.getElementById("compare-curve-grid");
  if (!source || !grid || typeof Chart === "undefined") { return; }
  var curves = JSON.parse(source.textContent);
  var palette = ["#1f5fbf", "#c0392b", "#1b7f3b", "#8e44ad", "#b35c00", "#006d77", "#5d6778", "#1d2330"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = "#1d2330";
  Chart.defaults.font.size = 13;  // chart text at least 12 px (axes, ticks, legends)
  window.aresCharts = [];
  var runColor = {};
  function colorOf(run) {
    if (!(run in runColor)) { runColor[run] = palette[Object.keys(runColor).length % palette.length]; }
    return runColor[run];
  }
  function chart(parent, title, part, lines, step) {
    var runs = Object.keys(lines), longest = 0;
    var datasets = runs.map(function (run) {
      longest = Math.max(longest, lines[run].length);
      return { label: "run " + run, data: lines[run], borderColor: colorOf(run), pointRadius: 0, borderWidth: 2 };
    });
    var labels = [];
    for (var n = 1; n <= longest; n++) { labels.push(n); }
    var figure = document.createElement("figure");
    figure.className = "chart";
    var box = document.createElement("div");
    box.className = "chart-box";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", part + " loss of " + title + " per " + step + (runs.length ? " for runs " + runs.join(", ") : ": none"));
    box.appendChild(canvas);
    var caption = document.createElement("figcaption");
    caption.textContent = title + ": " + part + " loss per " + step;
    figure.appendChild(box);
    figure.appendChild(caption);
    parent.appendChild(figure);
    window.aresCharts.push(new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { x: { title: { display: true, text: step } }, y: { title: { display: true, text: part + " data loss" } } } }
    }));
  }
  Object.keys(curves).forEach(function (title) {
    var entry = curves[title];
    var heading = document.createElement("h3");
    heading.textContent = title + " (per " + entry.step + ")";
    var pair = document.createElement("div");
    pair.className = "curve-pair";
    grid.appendChild(heading);
    grid.appendChild(pair);
    chart(pair, title, "train", entry.train, entry.step);
    chart(pair, title, "validation", entry.validation, entry.step);
  });
})();
