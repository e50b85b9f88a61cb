// Draws every chart of the page (and of content HTMX swaps in) from its Vega-Lite spec.
(function () {
  "use strict";
  function draw(root) {
    if (typeof vegaEmbed !== "function") return;
    root.querySelectorAll(".vega[data-spec]:not([data-drawn])").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-spec"));
      if (!source) return;
      el.setAttribute("data-drawn", "1");
      var spec = JSON.parse(source.textContent);
      spec.width = "container";
      // the CSP forbids eval: vega reads its expressions with the interpreter instead
      var options = { actions: false, renderer: "svg", ast: true };
      if (window.vegaInterpreter) options.expr = window.vegaInterpreter.expressionInterpreter;
      vegaEmbed(el, spec, options).catch(function (err) {
        el.textContent = "chart could not be drawn: " + err;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // a select that submits its form when changed (no inline handlers: the CSP forbids them)
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
