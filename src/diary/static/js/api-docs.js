// Starts Swagger UI on /api/v1/docs. A file, not an inline script, so the page
// needs nothing beyond the site's Content-Security-Policy (default-src 'self').
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // "Try it out" from this page uses the browser session; Swagger UI sends the
    // CSRF header only if the user types it in, so unsafe calls need a token.
    withCredentials: true,
  });
})();
