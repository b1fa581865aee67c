// Starts Swagger UI on /docs (assets served by this node; no inline script, no other host).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default validator is another host
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
