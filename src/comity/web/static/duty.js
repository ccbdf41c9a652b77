// The 24/7 desk's live list (progressive enhancement; the desk works without it).
// - A refresh is skipped while the officer is in the list: a field inside has the focus or a
//   typed note, which the swap would otherwise wipe out. (htmx's trigger filters need eval,
//   which our content security policy and htmx configuration forbid, hence this listener.)
// - The list itself is not a live region (its countdowns change every second): when a refresh
//   brings a request not listed before, the visually hidden summary says how many are waiting.
(function () {
  "use strict";
  function live() { return document.getElementById("duty-live"); }

  function busy(region) {
    var active = document.activeElement;
    if (active && active !== region && region.contains(active)) { return true; }
    var fields = region.querySelectorAll("textarea, input:not([type=hidden])");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value) { return true; }
    }
    return false;
  }

  function cases(region) {
    var found = {};
    region.querySelectorAll("[data-case]").forEach(function (el) {
      found[el.getAttribute("data-case")] = true;
    });
    return found;
  }

  var known = {};
  document.addEventListener("DOMContentLoaded", function () {
    var region = live();
    if (region) { known = cases(region); }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var region = live();
    if (region && event.detail.elt === region && busy(region)) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var region = live();
    if (!region || event.detail.target !== region) { return; }
    var now = cases(region);
    var added = Object.keys(now).some(function (id) { return !known[id]; });
    known = now;
    var count = region.querySelector("[data-count]");
    var summary = document.getElementById("duty-summary");
    if (added && count && summary) {
      summary.textContent = count.getAttribute("data-announce");
    }
  });
})();
