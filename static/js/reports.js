// Draws each report's chart with Chart.js from the numbers in <script id="report-charts">
// (the same numbers as the table under each chart). Clicking a bar or slice opens the
// cases behind it: the link in the same row of the table.
(function () {
  "use strict";

  function rowLink(name, index) {
    var rows = document.querySelectorAll("#table-" + name + " tbody tr");
    var row = rows[index];
    return row ? row.querySelector("a[data-drill]") : null;
  }

  function config(spec) {
    var pareto = spec.type === "pareto";
    var datasets = spec.series.map(function (series, index) {
      var set = { label: series.label, data: series.data };
      if (pareto && index === 1) {
        set.type = "line";
        set.yAxisID = "share";
      }
      return set;
    });
    // A right-to-left page reads its charts from the right: first bar and value axis there.
    var rtl = document.documentElement.dir === "rtl";
    var scales = {};
    if (spec.type !== "doughnut") {
      scales = { x: { stacked: spec.stacked, reverse: rtl },
                 y: { stacked: spec.stacked, beginAtZero: true, position: rtl ? "right" : "left" } };
      if (pareto) {
        scales.share = { position: rtl ? "left" : "right", min: 0, max: 100,
                         grid: { drawOnChartArea: false } };
      }
    }
    return {
      type: pareto ? "bar" : spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { rtl: rtl }, tooltip: { rtl: rtl } },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var link = rowLink(spec.id, elements[0].index);
          if (link) { window.location.assign(link.getAttribute("href")); }
        }
      }
    };
  }

  function draw() {
    var block = document.getElementById("report-charts");
    if (!block || typeof window.Chart === "undefined") { return; }
    JSON.parse(block.textContent).forEach(function (spec) {
      var canvas = document.getElementById("chart-" + spec.id);
      if (!canvas) { return; }
      new window.Chart(canvas, config(spec));
      canvas.setAttribute("data-drawn", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
