/* /docs: start Swagger UI (served from /static/vendor) on this node's OpenAPI document. */
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({ url: root.dataset.openapi, domNode: root, deepLinking: false, validatorUrl: null });
});
