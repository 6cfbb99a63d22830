// Draws the X-Ray figures built server-side (observability/service_map_figure.py, trace_waterfall.py): every
// element with data-xray-figure names the json_script holding its figure. A clicked point whose customdata is a
// path (a service's entity page) is followed.
(function () {
  "use strict";
  function draw(holder) {
    var source = document.getElementById(holder.dataset.xrayFigure);
    if (!source || typeof Plotly === "undefined") return;
    var figure = JSON.parse(source.textContent);
    var options = {displaylogo: false, responsive: true, scrollZoom: holder.dataset.scrollZoom === "true"};
    Plotly.newPlot(holder, figure.data, figure.layout, options).then(function () { holder.dataset.ready = "true"; });
    holder.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var target = point && point.customdata;
      if (typeof target === "string" && target.charAt(0) === "/") window.location.assign(target);
    });
  }
  function drawAll() { document.querySelectorAll("[data-xray-figure]").forEach(draw); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
