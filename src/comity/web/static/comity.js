// Progressive enhancement only: every page works without this file.
// Countdowns: an element with data-due="<ISO time>" shows the time left as h:mm:ss, refreshed
// each second, once less than a day is left (or late); further away it keeps the text the
// server wrote in the reader's language ("in 3 days"), which a bare 71:59:59 would replace.
// An element with data-left="{} left" and data-late="{} late" (translated by the server) gets
// its text replaced by "0:59:59 left" or "0:00:01 late"; without them, "0:59:59" or "−0:00:01".
(function () {
  "use strict";
  var DAY = 86400;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000);
      var sign = left < 0 ? "−" : "";
      left = Math.abs(left);
      if (left >= DAY) { return; }
      var time = Math.floor(left / 3600) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
      // With data-left / data-late (the server's translated "{} left" / "{} late"), the
      // countdown replaces the server's words and keeps saying which way it runs.
      var words = el.getAttribute(sign ? "data-late" : "data-left");
      el.textContent = words ? words.replace("{}", time) : sign + time;
      el.classList.toggle("overdue", sign !== "");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
