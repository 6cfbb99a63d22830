// Renders each OpenAPI definition on the page with Swagger UI, from the parsed definition embedded in the page.
// No request leaves the portal: the validator badge is off and "Try it out" is disabled.
(function () {
  "use strict";
  function render() {
    if (typeof SwaggerUIBundle === "undefined") return;
    document.querySelectorAll("[data-swagger-spec]").forEach(function (holder) {
      var source = document.getElementById(holder.dataset.swaggerSpec);
      if (!source) return;
      SwaggerUIBundle({
        spec: JSON.parse(source.textContent),
        domNode: holder,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        validatorUrl: null,
        supportedSubmitMethods: [],
        deepLinking: false,
        onComplete: function () { holder.dataset.ready = "true"; }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
