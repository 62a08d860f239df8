/* Marketing pages: show only the rule fields that apply, the CSV column mapping
   step, the what-if chart, and announcements when a background job finishes.
   Everything works without this script; it only makes the pages friendlier. */
(function () {
  "use strict";

  // The server reads the header from the first bytes of the file, with the same parser the import uses.
  var HEADER_BYTES = 64 * 1024;

  function announce(text) {
    var live = document.getElementById("live");
    if (!live || !text) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  // ---------- Rule form: only the fields that apply ----------

  function checkedValue(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function fieldValue(form, name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }

  function showWhen(form, attribute, value) {
    form.querySelectorAll("[" + attribute + "]").forEach(function (el) {
      var wanted = el.getAttribute(attribute).split(" ");
      el.hidden = wanted.indexOf(value) === -1;
    });
  }

  function updateRuleForm(form) {
    showWhen(form, "data-show-category", checkedValue(form, "category"));
    showWhen(form, "data-show-kind", fieldValue(form, "activity_kind"));
    showWhen(form, "data-show-operator", fieldValue(form, "operator"));
  }

  document.querySelectorAll("[data-rule-form]").forEach(function (form) {
    updateRuleForm(form);
    form.addEventListener("change", function () { updateRuleForm(form); });
  });

  // ---------- Import: the column mapping step ----------

  function resetMapping(box, html) {
    box.innerHTML = html;
  }

  document.querySelectorAll("[data-import-form]").forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var box = form.querySelector("#import-mapping");
    if (!input || !box) return;
    var initial = box.innerHTML;
    var request = 0;

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      request += 1;
      var mine = request;
      if (!file) {
        resetMapping(box, initial);
        return;
      }
      var reading = interpolate(gettext("Reading the columns of %(name)s…"), { name: file.name.replace(/[<>&"']/g, "") }, true);
      resetMapping(box, '<p class="muted small">' + reading + "</p>");
      var data = new FormData();
      data.append("file", file.slice(0, HEADER_BYTES), file.name);
      var token = form.querySelector('input[name="csrfmiddlewaretoken"]');
      fetch(form.dataset.headerUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (mine !== request) return;
          resetMapping(box, html);
          var heading = box.querySelector(".card-title, .field-error");
          if (heading) announce(heading.textContent);
        })
        .catch(function () {
          if (mine !== request) return;
          resetMapping(box, '<p class="field-error" role="alert">' + gettext("Could not read the columns. You can still import: columns are matched by their header names.") + "</p>");
        });
    });
  });

  // ---------- What-if chart ----------

  function drawChart(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || !window.Chart) {
      canvas.parentElement.hidden = true;
      return;
    }
    var data = JSON.parse(source.textContent);
    var colors = ["#98a2b3", "#4338ca"];
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, i) {
          return { label: series.label, data: series.data, backgroundColor: colors[i % colors.length], borderRadius: 4 };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart-source]").forEach(drawChart);

  // ---------- Finished jobs ----------

  document.body.addEventListener("htmx:load", function (event) {
    var el = event.detail.elt;
    if (el === document.body) return;
    if (el.dataset && el.dataset.announce) {
      announce(el.dataset.announce);
      return;
    }
    var flash = el.querySelector && el.querySelector("[data-announce]");
    if (flash) announce(flash.dataset.announce);
  });
})();
