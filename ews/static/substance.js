/* /substances/{id}: detections per month, drawn from /api/v1/substances/{id}/monthly. */
"use strict";
(function () {
  const figure = document.getElementById("monthly");
  if (!figure) return;
  const lang = figure.dataset.lang || document.documentElement.lang || "en";
  const words = JSON.parse(figure.dataset.words || "{}");
  const C = window.EwsCharts;
  const plot = figure.querySelector(".plot");
  fetch(`/api/v1/substances/${encodeURIComponent(figure.dataset.substance)}/monthly`, { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`the monthly counts answered ${response.status}`);
      return response.json();
    })
    .then((data) => {
      const months = [];
      if (data.rows.length) {
        let [year, month] = data.rows[0].month.split("-").map(Number);
        const [lastYear, lastMonth] = data.rows[data.rows.length - 1].month.split("-").map(Number);
        while (year < lastYear || (year === lastYear && month <= lastMonth)) {
          months.push(`${year}-${String(month).padStart(2, "0")}`);
          month += 1;
          if (month > 12) { month = 1; year += 1; }
        }
      }
      const countries = [...new Set(data.rows.map((r) => r.country))].sort();
      C.bars(plot, {
        categories: months, lang, label: figure.closest("section").querySelector("h2").textContent,
        labelOf: (m) => C.monthLabel(m, lang), emptyText: words.no_data, legend: true,
        series: countries.map((country, i) => ({
          name: C.countryName(country, lang),
          color: C.PALETTE[i % C.PALETTE.length],
          values: months.map((m) => (data.rows.find((r) => r.month === m && r.country === country) || {}).detections || 0),
        })),
      });
      figure.dataset.ready = "true";
    })
    .catch((error) => {
      plot.textContent = error.message;
      figure.dataset.ready = "error";
    });
})();
