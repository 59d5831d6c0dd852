(function () {
  "use strict";
  // The run page's equity chart (#system-equity-data), drawn with the vendored Chart.js once every deferred
  // script has run: the strategy after costs, at 0 bps, and buy-and-hold on the common test window.
  function draw() {
    var source = document.getElementById("system-equity-data");
    var figure = document.getElementById("chart-equity");
    if (!source || !figure || typeof Chart === "undefined") { return; }
    var d = JSON.parse(source.textContent);
    new Chart(figure.querySelector("canvas"), {
      type: "line",
      data: {
        labels: d.time,
        datasets: [
          { label: "strategy after costs", data: d.strategy, borderColor: "#1f5fbf", pointRadius: 0, borderWidth: 2 },
          { label: "strategy at 0 bps", data: d.strategy_before_costs, borderColor: "#1f5fbf", borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5 },
          { label: "buy and hold", data: d.buy_and_hold, borderColor: "#5d6778", pointRadius: 0, borderWidth: 1.5 }
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } }, y: { title: { display: true, text: "equity" } } }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
