/* ews charts: small SVG charts drawn from API data (bars, stacked bars, lines, horizontal bars, a map).
   No library and no other host: the map outlines come from /static/vendor/americas.json (make assets). */
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f5fbf", "#c0392b", "#1e8449", "#7d3c98", "#b9770e", "#117a8b", "#6e2c00", "#d4488e",
    "#2e4053", "#7cb342", "#00acc1", "#ff7043", "#5e35b1", "#8d6e63", "#f4b400", "#546e7a", "#26a69a"];

  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function numberFormat(lang, digits) {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  function monthLabel(ym, lang) {
    const [year, month] = ym.split("-").map(Number);
    return new Intl.DateTimeFormat(lang, { month: "short", year: "2-digit", timeZone: "UTC" })
      .format(new Date(Date.UTC(year, month - 1, 1)));
  }

  function countryName(code, lang) {
    try {
      return new Intl.DisplayNames([lang], { type: "region" }).of(code) || code;
    } catch (error) {
      return code;
    }
  }

  function widthOf(container) {
    return Math.max(360, Math.round(container.clientWidth || 540));
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function frame(container, width, height, label) {
    container.replaceChildren();
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart-svg" });
    container.appendChild(svg);
    return svg;
  }

  function empty(container, message) {
    container.replaceChildren();
    const p = document.createElement("p");
    p.className = "muted empty";
    p.textContent = message;
    container.appendChild(p);
  }

  function legend(container, series) {
    const list = document.createElement("ul");
    list.className = "legend";
    for (const s of series) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch" + (s.dashed ? " dashed" : "");
      swatch.dataset.color = s.color;
      item.append(swatch, document.createTextNode(s.name));
      list.appendChild(item);
    }
    container.appendChild(list);
    // colours set through the CSSOM, not style attributes (the CSP forbids inline styles)
    list.querySelectorAll(".swatch").forEach((node) => {
      node.style.setProperty("--swatch", node.dataset.color);
    });
  }

  function axes(svg, box, max, lang, categories, labelOf) {
    const format = numberFormat(lang, 1);
    for (let i = 0; i <= 4; i++) {
      const value = (max * i) / 4;
      const y = box.bottom - ((box.bottom - box.top) * i) / 4;
      svg.appendChild(el("line", { x1: box.left, x2: box.right, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: box.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, format.format(value)));
    }
    const step = (box.right - box.left) / Math.max(categories.length, 1);
    const longest = Math.max(...categories.map((c) => String(labelOf(c)).length));
    const every = Math.max(1, Math.ceil((categories.length * (longest * 7 + 10)) / (box.right - box.left)));
    categories.forEach((category, i) => {
      if (i % every) return;
      svg.appendChild(el("text", { x: box.left + step * (i + 0.5), y: box.bottom + 16, "text-anchor": "middle", class: "tick" },
        labelOf(category)));
    });
    return step;
  }

  /* Vertical bars, stacked when there are several series. */
  function bars(container, options) {
    const { categories, series, lang, label } = options;
    const labelOf = options.labelOf || ((c) => c);
    if (!categories.length || !series.length) return empty(container, options.emptyText);
    const width = widthOf(container), height = Math.min(300, Math.round(width * 0.48));
    const box = { left: 48, right: width - 12, top: 12, bottom: height - 28 };
    const totals = categories.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
    const max = niceMax(Math.max(...totals));
    const svg = frame(container, width, height, label);
    const step = axes(svg, box, max, lang, categories, labelOf);
    const format = numberFormat(lang, 1);
    const barWidth = Math.max(2, step * 0.7);
    categories.forEach((category, i) => {
      let base = box.bottom;
      for (const s of series) {
        const value = s.values[i] || 0;
        if (!value) continue;
        const h = ((box.bottom - box.top) * value) / max;
        const rect = el("rect", { x: box.left + step * i + (step - barWidth) / 2, y: base - h, width: barWidth, height: h, fill: s.color, class: "bar" });
        rect.appendChild(el("title", {}, `${labelOf(category)} · ${s.name}: ${format.format(value)}`));
        svg.appendChild(rect);
        base -= h;
      }
    });
    if (series.length > 1 || options.legend) legend(container, series);
  }

  /* Lines with markers; a series may be dashed; null values leave a gap. */
  function lines(container, options) {
    const { categories, series, lang, label } = options;
    const labelOf = options.labelOf || ((c) => c);
    const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    if (!categories.length || !all.length) return empty(container, options.emptyText);
    const width = widthOf(container), height = Math.min(300, Math.round(width * 0.48));
    const box = { left: 48, right: width - 12, top: 12, bottom: height - 28 };
    const max = niceMax(Math.max(...all));
    const svg = frame(container, width, height, label);
    const step = axes(svg, box, max, lang, categories, labelOf);
    const format = numberFormat(lang, 1);
    for (const s of series) {
      let path = "";
      s.values.forEach((value, i) => {
        if (value === null || value === undefined) return;
        const x = box.left + step * (i + 0.5);
        const y = box.bottom - ((box.bottom - box.top) * value) / max;
        const previous = i > 0 ? s.values[i - 1] : null;
        path += (previous === null || previous === undefined ? "M" : "L") + x.toFixed(1) + "," + y.toFixed(1);
        const dot = el("circle", { cx: x, cy: y, r: 3.5, fill: s.color });
        dot.appendChild(el("title", {}, `${labelOf(categories[i])} · ${s.name}: ${format.format(value)}`));
        svg.appendChild(dot);
      });
      svg.insertBefore(el("path", { d: path, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 4" : "none" }), svg.firstChild.nextSibling);
    }
    legend(container, series);
  }

  /* Horizontal bars: one labelled row per item. */
  function hbars(container, options) {
    const { items, lang, label } = options;
    if (!items.length) return empty(container, options.emptyText);
    const width = widthOf(container), row = 24, labelWidth = Math.min(230, Math.round(width * 0.38));
    const height = items.length * row + 8;
    const max = Math.max(...items.map((i) => i.value)) || 1;
    const svg = frame(container, width, height, label);
    items.forEach((item, i) => {
      const y = 4 + i * row;
      const w = ((width - labelWidth - 160) * item.value) / max;
      svg.appendChild(el("text", { x: labelWidth - 8, y: y + 15, "text-anchor": "end", class: "label" }, item.label));
      const rect = el("rect", { x: labelWidth, y: y + 3, width: Math.max(w, 1), height: row - 8, fill: options.color || PALETTE[0], class: "bar" });
      rect.appendChild(el("title", {}, `${item.label}: ${item.text}`));
      svg.appendChild(rect);
      svg.appendChild(el("text", { x: labelWidth + w + 6, y: y + 15, class: "value" }, item.text));
    });
  }

  let geography = null;
  function americas() {
    geography = geography || fetch("/static/vendor/americas.json").then((r) => {
      if (!r.ok) throw new Error("map outlines missing: run make assets");
      return r.json();
    });
    return geography;
  }

  /* A choropleth of the Americas: values by ISO alpha-2 country code. */
  async function map(container, options) {
    const { values, lang, label } = options;
    const geo = await americas();
    const max = Math.max(0, ...Object.values(values));
    const svg = frame(container, geo.width, geo.height, label);
    svg.classList.add("map");
    const shades = ["#dbe7f6", "#a9c6ea", "#6f9fd8", "#3a73bd", "#1b4a8a"];
    const format = numberFormat(lang, 0);
    for (const country of geo.countries) {
      const value = values[country.code] || 0;
      const shade = value ? shades[Math.min(shades.length - 1, Math.floor(((value - 1) / Math.max(max, 1)) * shades.length))] : "#eef0f3";
      const path = el("path", { d: country.d, fill: shade, class: "country", "data-country": country.code, "data-value": value });
      path.appendChild(el("title", {}, `${countryName(country.code, lang)}: ${format.format(value)}`));
      svg.appendChild(path);
    }
    const scale = document.createElement("p");
    scale.className = "muted scale";
    scale.textContent = `0 – ${format.format(max)} ${options.unit || ""}`;
    container.appendChild(scale);
  }

  window.EwsCharts = { bars, lines, hbars, map, monthLabel, countryName, numberFormat, PALETTE };
})();
