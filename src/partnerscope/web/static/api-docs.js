// Starts Swagger UI on the API's page (/api/v1/docs) from the element's data attributes; a
// file of its own because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("swagger-ui");
    if (!el || typeof SwaggerUIBundle !== "function") return;
    var header = el.getAttribute("data-csrf-header");
    var token = el.getAttribute("data-csrf");
    window.ui = SwaggerUIBundle({
      url: el.getAttribute("data-openapi"),
      domNode: el,
      deepLinking: true,
      layout: "BaseLayout",
      presets: [SwaggerUIBundle.presets.apis],
      // no badge fetched from the public validator: nothing is loaded from another site
      validatorUrl: null,
      // "Try it out" is signed in by this page's session cookie: a POST needs its CSRF token
      requestInterceptor: function (request) {
        if (header && token) request.headers[header] = token;
        return request;
      },
    });
  });
})();
