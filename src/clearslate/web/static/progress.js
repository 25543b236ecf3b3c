// Live progress of a run: poll its progress endpoint and move the bar; reload when it ends.
// (No framework: one element, one request a second.)
(function () {
  "use strict";
  var bar = document.getElementById("bar");
  if (bar) {
    var stage = document.getElementById("stage");
    var percent = document.getElementById("percent");
    var poll = function () {
      fetch(bar.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.status === "done" || p.status === "failed") { window.location.reload(); return; }
          bar.value = p.percent;
          bar.textContent = p.percent + "%";
          percent.textContent = Math.round(p.percent) + "%";
          if (stage.textContent !== p.stage) { stage.textContent = p.stage; }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }
  var docs = document.getElementById("docs-status");
  if (docs) { window.setTimeout(function () { window.location.reload(); }, 1000 * Number(docs.dataset.reload)); }
})();
