/* /dashboard: fetch the charts' data from /api/v1/dashboard with the page's filters and draw them. */
"use strict";
(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const lang = root.dataset.lang || document.documentElement.lang || "en";
  const labels = JSON.parse(root.dataset.labels || "{}");
  const words = JSON.parse(root.dataset.words || "{}");
  const C = window.EwsCharts;
  const format = C.numberFormat(lang, 1);
  const monthOf = (m) => C.monthLabel(m, lang);

  function plot(name) {
    return root.querySelector(`#chart-${name} .plot`);
  }

  function title(name) {
    return root.querySelector(`#chart-${name} h2`).textContent;
  }

  function stamp(readAt) {
    const when = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(new Date(readAt));
    root.querySelectorAll(".read-at").forEach((node) => {
      node.textContent = when + " UTC";
      node.setAttribute("datetime", readAt);
    });
  }

  function months(data) {
    const out = [];
    let [year, month] = data.filters.from.split("-").map(Number);
    const [lastYear, lastMonth] = data.filters.to.split("-").map(Number);
    while (year < lastYear || (year === lastYear && month <= lastMonth)) {
      out.push(`${year}-${String(month).padStart(2, "0")}`);
      month += 1;
      if (month > 12) { month = 1; year += 1; }
    }
    return out;
  }

  /* The numbers behind a chart as a table, behind a disclosure: readable by keyboard and screen reader. */
  function table(name, rows) {
    const figure = root.querySelector(`#chart-${name}`);
    const old = figure.querySelector("details.data");
    if (old) old.remove();
    if (!rows.length) return;
    const details = document.createElement("details");
    details.className = "data";
    const summary = document.createElement("summary");
    summary.textContent = words.table || "Table";
    const grid = document.createElement("table");
    const head = grid.createTHead().insertRow();
    const columns = Object.keys(rows[0]);
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column;
      head.appendChild(th);
    }
    const body = grid.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const column of columns) {
        const value = row[column];
        tr.insertCell().textContent = typeof value === "number" ? format.format(value) : value === null ? "—" : String(value);
      }
    }
    details.append(summary, grid);
    figure.appendChild(details);
  }

  function draw(data) {
    const charts = data.charts;
    Object.entries(charts).forEach(([name, rows]) => table(name, rows));
    const all = months(data);
    const classes = [...new Set(charts.by_class.map((r) => r.class))].sort();
    C.bars(plot("by_class"), {
      categories: all, lang, label: title("by_class"), labelOf: monthOf, emptyText: words.no_data, legend: true,
      series: classes.map((klass, i) => ({
        name: labels[klass] || klass,
        color: C.PALETTE[i % C.PALETTE.length],
        values: all.map((m) => (charts.by_class.find((r) => r.month === m && r.class === klass) || {}).detections || 0),
      })),
    });
    C.bars(plot("new_by_quarter"), {
      categories: charts.new_by_quarter.map((r) => r.quarter), lang, label: title("new_by_quarter"), emptyText: words.no_data,
      series: [{ name: words.new_substances, color: C.PALETTE[1], values: charts.new_by_quarter.map((r) => r.new_substances) }],
    });
    const firsts = {};
    charts.first_by_country.forEach((r) => { firsts[r.country] = r.first_in_country; });
    C.map(plot("first_by_country"), { values: firsts, lang, label: title("first_by_country"), unit: words.first_in_country }).then(() => {
      const list = document.createElement("ol");
      list.className = "ranking";
      charts.first_by_country.filter((r) => r.first_in_country).sort((a, b) => b.first_in_country - a.first_in_country).slice(0, 8)
        .forEach((r) => {
          const item = document.createElement("li");
          item.textContent = `${C.countryName(r.country, lang)}: ${format.format(r.first_in_country)}`;
          list.appendChild(item);
        });
      plot("first_by_country").appendChild(list);
    });
    const delays = charts.delays;
    const days = (v) => (v === null || v === undefined ? null : Math.round((v / 24) * 10) / 10);
    C.lines(plot("delays"), {
      categories: delays.map((r) => r.month), lang, label: title("delays"), labelOf: monthOf, emptyText: words.no_data,
      series: [
        { name: `${words.seizure_to_report}, ${words.median} (${words.days})`, color: C.PALETTE[0], values: delays.map((r) => r.seizure_to_report_days_median) },
        { name: `${words.seizure_to_report}, p90 (${words.days})`, color: C.PALETTE[0], dashed: true, values: delays.map((r) => r.seizure_to_report_days_p90) },
        { name: `${words.report_to_alert}, ${words.median} (${words.days})`, color: C.PALETTE[1], values: delays.map((r) => days(r.report_to_alert_hours_median)) },
        { name: `${words.report_to_alert}, p90 (${words.days})`, color: C.PALETTE[1], dashed: true, values: delays.map((r) => days(r.report_to_alert_hours_p90)) },
      ],
    });
    C.hbars(plot("sold_as"), {
      lang, label: title("sold_as"), emptyText: words.no_data, color: C.PALETTE[3],
      items: charts.sold_as.slice(0, 15).map((r) => ({ label: `${r.sold_as} → ${r.found}`, value: r.samples, text: `${format.format(r.samples)} ${words.samples}` })),
    });
    C.hbars(plot("adulterants"), {
      lang, label: title("adulterants"), emptyText: words.no_data, color: C.PALETTE[4],
      items: charts.adulterants.map((r) => ({
        label: r.adulterant, value: r.samples,
        text: `${format.format(r.samples)} ${words.samples} (${new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(r.share)})`,
      })),
    });
    root.dataset.ready = "true";
  }

  const query = root.dataset.query;
  fetch("/api/v1/dashboard" + (query ? "?" + query : ""), { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(`the dashboard data answered ${response.status}`);
      return response.json();
    })
    .then((data) => {
      stamp(data.read_at);
      draw(data);
    })
    .catch((error) => {
      root.querySelectorAll(".plot").forEach((node) => { node.textContent = error.message; });
      root.dataset.ready = "error";
    });
})();
