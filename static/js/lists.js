// Lists: the header checkbox selects every row of the page.
document.querySelectorAll("input[data-select-all]").forEach(function (all) {
  all.addEventListener("change", function () {
    var form = all.closest("form");
    form.querySelectorAll('input[type="checkbox"][name="selected"]').forEach(function (box) { box.checked = all.checked; });
  });
});
