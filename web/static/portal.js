// Schulhof portal: progressive enhancement only; every page works without it.
"use strict";
(function () {
  // Address book: search as you type (the server renders the rows; text is escaped there).
  var q = document.querySelector("input[data-live]");
  if (q) {
    var timer = null, seq = 0;
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(q.dataset.live + "?teil=1&q=" + encodeURIComponent(q.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            if (mine !== seq) return;
            var t = document.getElementById(q.dataset.target);
            var tpl = document.createElement("template");
            tpl.innerHTML = html; // server-rendered, escaped by html/template
            t.replaceChildren(tpl.content);
          })
          .catch(function () {});
      }, 150);
    });
  }
})();
