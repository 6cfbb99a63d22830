// Draws the CloudWatch charts built server-side (observability/charts.py): every element with
// data-metric-chart names the <script type="application/json"> holding its plotly figure.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll("[data-metric-chart]").forEach(function (holder) {
      var source = document.getElementById(holder.dataset.metricChart);
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      Plotly.newPlot(holder, figure.data, figure.layout, {displaylogo: false, responsive: true})
        .then(function () { holder.dataset.ready = "true"; });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
