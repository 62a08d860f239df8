/* Report charts: each <canvas data-chart="ID"> is drawn by Chart.js (served from
   static/vendor/chartjs) from the JSON blob <script id="ID" type="application/json">
   the page renders beside it. The tables on the page hold the same numbers: they
   are the charts' text alternative. Clicking a bar opens the leads behind it. */
(function () {
  "use strict";

  var TONES = {
    primary: "#4338ca",
    good: "#067647",
    bad: "#b42318",
    wait: "#d97706",
    info: "#2f6feb",
    muted: "#9aa3b2",
    // Okabe and Ito's palette, safe for every kind of colour vision (stacked bars by reason).
    cb1: "#0072b2",
    cb2: "#e69f00",
    cb3: "#009e73",
    cb4: "#cc79a7",
    cb5: "#56b4e9",
    cb6: "#d55e00",
    cb7: "#f0e442",
    cbother: "#7f7f7f",
  };

  function color(tone) {
    return TONES[tone] || TONES.primary;
  }

  function config(spec) {
    var horizontal = Boolean(spec.horizontal);
    var stacked = Boolean(spec.stacked);
    var datasets = spec.datasets.map(function (set) {
      var line = spec.kind === "line" || set.type === "line";
      return {
        type: line ? "line" : "bar",
        label: set.label,
        data: set.data,
        links: set.links || [],
        backgroundColor: line ? color(set.tone) : color(set.tone) + (stacked ? "" : "d9"),
        borderColor: color(set.tone),
        borderWidth: line ? 2 : 0,
        borderRadius: line ? 0 : 4,
        pointRadius: line ? 3 : 0,
        spanGaps: true,
        tension: 0.2,
        order: line ? 0 : 1,
        maxBarThickness: 56,
      };
    });
    var valueAxis = { beginAtZero: true, stacked: stacked, ticks: { precision: 0 }, grid: { color: "#eef0f3" } };
    var labelAxis = { stacked: stacked, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } };
    return {
      type: spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        // Numbers on the axes and in the tooltips in the page's language (1.234,5 in German).
        locale: document.documentElement.lang || undefined,
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom", labels: { boxWidth: 12, usePointStyle: true } },
          tooltip: { mode: "index", intersect: false },
        },
        onHover: function (event, elements) {
          var link = elements.length && linkOf(datasets, elements[0]);
          event.native.target.style.cursor = link ? "pointer" : "default";
        },
        onClick: function (_event, elements) {
          var link = elements.length && linkOf(datasets, elements[0]);
          if (link) window.location.href = link;
        },
      },
    };
  }

  function linkOf(datasets, element) {
    var links = datasets[element.datasetIndex].links;
    return links && links[element.index];
  }

  function draw() {
    if (typeof window.Chart === "undefined") return;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#586172";
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var blob = document.getElementById(canvas.dataset.chart);
      if (!blob) return;
      try {
        new window.Chart(canvas, config(JSON.parse(blob.textContent)));
      } catch (error) {
        canvas.closest(".chart-box").hidden = true;
        if (window.console) window.console.error("Chart not drawn:", error);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
