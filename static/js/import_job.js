/* Import job page: poll the job's JSON (the API's job URL, with this browser session) until the job has
 * succeeded or failed, and show its progress, then its result (a link to the new site) or its errors.
 * Without this script the page shows the state it was served with. */
(function () {
  "use strict";

  var box = document.getElementById("import-job");
  if (!box) return;
  var INTERVAL_MS = 500;
  var MAX_POLLS = 7200; // an hour at most, then the page stops asking (reload to resume)
  var polls = 0;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function show(job) {
    var p = job.progress;
    var bar = document.getElementById("job-progress");
    bar.max = p.total || 1;
    bar.value = p.done;
    text("job-status", job.status);
    text("job-progress-text", p.done + " of " + p.total + " (" + p.percent + " %)" + (p.phase ? ", " + p.phase : ""));
    box.dataset.status = job.status;
    if (job.status === "succeeded" && job.result) {
      var link = document.getElementById("job-site-link");
      if (job.result.site) {
        link.href = job.result.site.page;
        link.textContent = job.result.site.name;
      }
      var counts = Object.keys(job.result.counts).map(function (k) { return job.result.counts[k] + " " + k; });
      text("job-counts", counts.join(", "));
      document.getElementById("job-result").hidden = false;
    }
    if (job.status === "failed" && job.errors) {
      text("job-error-detail", job.errors.detail);
      text("job-error-path", job.errors.path);
      text("job-error-list", JSON.stringify(job.errors.errors, null, 2));
      document.getElementById("job-errors").hidden = false;
    }
  }

  function finished(status) {
    return status === "succeeded" || status === "failed";
  }

  function poll() {
    polls += 1;
    fetch(box.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (job) {
        show(job);
        // A NetBox job's summary (failing racks, headroom per site) is rendered by the page: show it once done.
        if (finished(job.status) && box.dataset.kind === "netbox") window.location.reload();
        else if (!finished(job.status) && polls < MAX_POLLS) window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        if (polls < MAX_POLLS) window.setTimeout(poll, INTERVAL_MS * 4);
      });
  }

  if (!finished(box.dataset.status)) poll();
})();
