// Draws every chart of the page (and of content HTMX swaps in) from its Vega-Lite spec, opens
// the phone's menu, and labels table cells so that a table reads as cards on a phone.
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
  // a phone's menu: the "Menu" button of the bar opens and closes the sections (_base.html.j2)
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("nav.top button.menu");
    if (!button) return;
    var nav = button.closest("nav.top");
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  // tables on a phone (app.css, 600 px and below): each cell is labelled with its column's
  // heading and a row is laid out as a card; a table whose headings span columns (a matrix)
  // scrolls inside its own box instead, never the page
  function label(root) {
    root.querySelectorAll("table:not(.no-cards)").forEach(function (table) {
      var rows = table.rows;
      if (!rows.length) return;
      var head = table.tHead && table.tHead.rows.length
        ? table.tHead.rows[table.tHead.rows.length - 1] : null;
      if (!head) {
        var first = rows[0];
        var all = first.cells.length > 0;
        for (var k = 0; k < first.cells.length; k++) all = all && first.cells[k].tagName === "TH";
        if (!all) return;
        head = first;
        head.classList.add("head");
      }
      var names = [];
      var spans = table.tHead && table.tHead.rows.length > 1;
      for (var i = 0; i < head.cells.length; i++) {
        var cell = head.cells[i];
        if (cell.colSpan > 1) spans = true;
        names.push(cell.textContent.replace(/\s+/g, " ").trim());
      }
      if (spans) {
        var parent = table.parentElement;
        if (parent && !parent.classList.contains("scroll")) {
          var box = document.createElement("div");
          box.className = "scroll";
          parent.insertBefore(box, table);
          box.appendChild(table);
        }
        return;
      }
      for (var r = 0; r < rows.length; r++) {
        var row = rows[r];
        if (row === head || (table.tHead && row.parentElement === table.tHead)) continue;
        for (var c = 0, at = 0; c < row.cells.length; c++) {
          var td = row.cells[c];
          if (!td.hasAttribute("data-label")) td.setAttribute("data-label", names[at] || "");
          at += td.colSpan || 1;
        }
      }
      table.classList.add("cards");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); label(document); });
  // a select that submits its form when changed (no inline handlers: the CSP forbids them)
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    draw(event.target);
    label(document);
  });
})();
