// Live page updates (docs/notifications.md, "The notification centre and live updates"):
// the bar's unread badge follows the user's notifications, and a notice offers to reload when
// a new run is served, without reloading the page. Listens to /events (server-sent events:
// "unread" with the count, "run" with the new run's id); the browser reopens the stream by
// itself when the server ends it.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!window.EventSource || !script) {
    return;
  }
  var run = script.getAttribute("data-run");
  var url = "/events" + (run ? "?run=" + encodeURIComponent(run) : "");
  var source = null;

  function listen() {
    source = new EventSource(url);
    source.addEventListener("unread", unread);
    source.addEventListener("run", newRun);
  }

  function unread(event) {
    var count = JSON.parse(event.data);
    var badge = document.getElementById("unread-badge");
    if (!badge) {
      return;
    }
    badge.textContent = String(count);
    badge.setAttribute("data-unread", String(count));
    badge.setAttribute("aria-label", count + " unread");
    badge.hidden = count === 0;
    badge.style.display = count === 0 ? "none" : "";
  }

  function newRun(event) {
    var id = JSON.parse(event.data);
    var notice = document.getElementById("new-run");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "new-run";
      notice.className = "message";
      notice.setAttribute("role", "status");
      notice.appendChild(document.createTextNode("A new run is available. "));
      var reload = document.createElement("a");
      reload.href = window.location.href;
      reload.textContent = "Reload to see it";
      reload.addEventListener("click", function (click) {
        click.preventDefault();
        window.location.reload();
      });
      notice.appendChild(reload);
      var main = document.querySelector("main") || document.body;
      main.insertBefore(notice, main.firstChild);
    }
    notice.setAttribute("data-run", String(id));
  }

  // opened a moment after the page has loaded: the page is complete (and "network idle" to a
  // test driving the browser) before the stream, which stays open, starts
  window.addEventListener("load", function () {
    window.setTimeout(listen, 1500);
  });
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
    }
  });
})();
