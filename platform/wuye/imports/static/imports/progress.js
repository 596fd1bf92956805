// The batch page's progress bar: polls the batch's progress URL until the import has finished, then
// reloads the page to show the outcome (records created, or the problems found).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var bar = document.getElementById("import-bar");
  var done = document.getElementById("import-done");
  var status = document.getElementById("import-status");
  var delay = 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { delay = Math.min(delay * 2, 10000); setTimeout(poll, delay); return; }
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        done.textContent = state.rows_done;
        status.textContent = state.status_label;
        if (state.finished) { window.location.reload(); return; }
        setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 10000); setTimeout(poll, delay); });
  }
  setTimeout(poll, delay);
})();
