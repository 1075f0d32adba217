// Charts: every element with data-chart holds {type, stack, categories, series:[{name, data, state}]}.
(function () {
  "use strict";
  var STATE_COLOURS = { on_time: "#3c9d5d", late: "#e0a030", unknown: "#9aa5b1", not_due: "#c9d3de",
                        missing: "#c8373d", site_broken: "#7a2a8c", quarantined: "#e06666" };

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { type: "scroll" },
      grid: { left: 48, right: 16, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: { rotate: spec.categories.length > 12 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.type, stack: spec.stack ? "all" : undefined, data: s.data,
                 connectNulls: true, itemStyle: s.state ? { color: STATE_COLOURS[s.state] } : undefined };
      })
    });
    element.setAttribute("data-chart-ready", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll(root) {
    if (typeof echarts === "undefined") { return; }
    root.querySelectorAll("[data-chart]:not([data-chart-ready])").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
  // The clicked cell stays marked while its page is shown.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var cell = event.target.closest && event.target.closest("td.cell");
    if (!cell) { return; }
    document.querySelectorAll("td.cell.selected").forEach(function (c) { c.classList.remove("selected"); });
    cell.classList.add("selected");
  });
})();
