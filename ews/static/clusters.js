// The link chart and timeline of one cluster, drawn as SVG from GET /api/v1/clusters/{id}.
// Time runs across, one lane per country; a line joins two linked seizures (thicker = higher score).
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function day(iso) { return Date.parse(iso + "T00:00:00Z") / 86400000; }

  function linkChart(box, data) {
    var width = 720, lane = 60, left = 60, right = 20, top = 20;
    var countries = data.countries;
    var height = top + lane * countries.length + 30;
    var days = data.nodes.map(function (n) { return day(n.seized_on); });
    var start = Math.min.apply(null, days), end = Math.max.apply(null, days);
    var span = Math.max(end - start, 1);
    var svg = el("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img"});
    var place = {};
    data.nodes.forEach(function (n, i) {
      var row = countries.indexOf(n.country);
      var offset = (i % 3 - 1) * 12;
      place[n.id] = {
        x: left + (width - left - right) * (day(n.seized_on) - start) / span,
        y: top + lane * row + lane / 2 + offset
      };
    });
    countries.forEach(function (c, row) {
      svg.appendChild(el("line", {x1: left, x2: width - right, y1: top + lane * (row + 1), y2: top + lane * (row + 1), stroke: "#ddd"}));
      svg.appendChild(el("text", {x: 4, y: top + lane * row + lane / 2 + 4, "font-size": 12}, c));
    });
    data.links.forEach(function (link) {
      var a = place[link.source], b = place[link.target];
      if (!a || !b) { return; }
      var line = el("line", {x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: "#555", "stroke-width": 1 + 3 * Math.max(0, link.score - 0.5), "class": "link"});
      line.appendChild(el("title", {}, link.score.toFixed(2) + ": " + link.shared.join(", ")));
      svg.appendChild(line);
    });
    data.nodes.forEach(function (n) {
      var p = place[n.id];
      var dot = el("circle", {cx: p.x, cy: p.y, r: 6, fill: PALETTE[countries.indexOf(n.country) % PALETTE.length], "class": "seizure"});
      dot.appendChild(el("title", {}, n.country + (n.region ? ", " + n.region : "") + " " + n.seized_on + (n.form ? " · " + n.form : "")));
      svg.appendChild(dot);
    });
    svg.appendChild(el("text", {x: left, y: height - 8, "font-size": 11}, data.first_seen));
    svg.appendChild(el("text", {x: width - right, y: height - 8, "font-size": 11, "text-anchor": "end"}, data.last_seen));
    box.appendChild(svg);
  }

  function timeline(box, data) {
    var width = 720, height = 140, left = 30, bottom = 24;
    var peak = Math.max.apply(null, data.timeline.map(function (m) { return m.detections; }).concat([1]));
    var bar = (width - left) / Math.max(data.timeline.length, 1);
    var svg = el("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img"});
    data.timeline.forEach(function (m, i) {
      var h = (height - bottom - 10) * m.detections / peak;
      var rect = el("rect", {x: left + i * bar + 2, y: height - bottom - h, width: Math.max(bar - 4, 1), height: h, fill: "#1f77b4", "class": "month"});
      rect.appendChild(el("title", {}, m.month + ": " + m.detections));
      svg.appendChild(rect);
      svg.appendChild(el("text", {x: left + i * bar + bar / 2, y: height - 8, "font-size": 10, "text-anchor": "middle"}, m.month));
    });
    box.appendChild(svg);
  }

  var chart = document.getElementById("link-chart");
  if (!chart) { return; }
  fetch(chart.getAttribute("data-source"), {headers: {Accept: "application/json"}})
    .then(function (response) { return response.json(); })
    .then(function (data) {
      linkChart(chart, data);
      timeline(document.getElementById("timeline"), data);
      chart.setAttribute("data-ready", "true");
    });
}());
