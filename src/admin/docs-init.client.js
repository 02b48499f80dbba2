// Swagger UI initializer for /admin/docs, served as its own file (/admin/docs/init.js): the page's
// CSP (default-src 'self') allows no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/admin/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Tokens stay in this tab's memory only; reloading the page forgets them.
    persistAuthorization: false,
    displayRequestDuration: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
