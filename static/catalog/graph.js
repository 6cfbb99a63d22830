// Draws the dependency graph built server-side (catalog/graph_figure.py) and follows a clicked node to its page.
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("dependency-graph");
    var source = document.getElementById("dependency-figure");
    if (!holder || !source || typeof Plotly === "undefined") return;
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(holder, figure.data, figure.layout, {displaylogo: false, responsive: true, scrollZoom: true})
      .then(function () { holder.dataset.ready = "true"; });
    holder.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && point.customdata) window.location.assign(point.customdata);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
