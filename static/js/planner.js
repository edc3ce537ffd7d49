/* Page behaviour of the capacity planner. No libraries beyond the vendored Plotly; every page works without
 * this script (forms submit normally), it only makes them quicker to use. */
(function () {
  "use strict";

  // Plotly figures are built server-side; each container names the JSON script element holding its figure.
  function drawFigures() {
    if (typeof window.Plotly === "undefined") return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["lasso2d", "select2d"],
      });
    });
  }

  // Selects marked data-autosubmit (floor-plan metric, wizard site) submit their form when changed.
  function autosubmit() {
    var metric = document.getElementById("id_metric");
    if (metric) metric.addEventListener("change", function () { metric.form.submit(); });
    var site = document.querySelector("#place-form [data-autosubmit]");
    if (site) {
      site.addEventListener("change", function () {
        var rack = document.getElementById("id_rack");
        if (rack) rack.value = "";  // racks belong to the previous site
        site.form.submit();
      });
    }
  }

  // Placement wizard: re-check on every change with a GET round trip that returns the result fragment.
  function liveCheck() {
    var form = document.getElementById("place-form");
    var target = document.getElementById("check-result");
    if (!form || !target) return;
    var status = document.getElementById("live-status");
    var timer = null;
    var seq = 0;

    function params() {
      var data = new URLSearchParams(new FormData(form));
      data.delete("suggest");
      return data;
    }

    function run() {
      var data = params();
      if (!data.get("rack") || !data.get("model")) return;
      var mine = ++seq;
      if (status) status.textContent = "Checking…";
      fetch(form.dataset.checkUrl + "?" + data.toString(), {
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (html) {
          if (mine !== seq) return;  // a newer check is on its way
          target.innerHTML = html;
          if (status) status.textContent = "Checked.";
          history.replaceState(null, "", form.action + "?" + data.toString());
        })
        .catch(function (err) {
          if (status) status.textContent = "Live check failed (" + err.message + "); use the Check button.";
        });
    }

    form.addEventListener("input", function (ev) {
      if (ev.target.name === "site") return;
      clearTimeout(timer);
      timer = setTimeout(run, 300);
    });
    form.addEventListener("change", function (ev) {
      if (ev.target.name === "site") return;
      clearTimeout(timer);
      timer = setTimeout(run, 50);
    });

    // The commit form records what the check form shows now.
    var commit = document.getElementById("commit-form");
    if (commit) {
      commit.addEventListener("submit", function () {
        ["site", "rack", "model", "quantity", "u_position"].forEach(function (name) {
          var from = form.elements[name];
          var to = commit.elements[name];
          if (from && to) to.value = from.value;
        });
      });
    }
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    drawFigures();
    autosubmit();
    liveCheck();
  });
})();
