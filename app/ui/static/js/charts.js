// Small SVG charts of our own: a line chart over time and a horizontal bar chart.
// Colours come from the stylesheet's --c0..--c7 by series index.

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f5f8b", "#d9822b", "#2a9d8f", "#9b5de5", "#e76f51", "#577590", "#90be6d", "#6d597a"];

function svg(tag, attrs = {}, text) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// Round axis marks from low to high (about four steps of 1, 2, 2.5 or 5 times a power of 10).
function ticks(low, high) {
  const raw = (high > low ? high - low : 1) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= raw);
  const marks = [];
  for (let v = Math.floor(low / step) * step; v < high + step * 0.999; v += step) marks.push(Number(v.toPrecision(12)));
  return marks.length > 1 ? marks : [marks[0], marks[0] + step];
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= value);
}

// series: [{name, points: [{x: Date, y: number|null}]}]; null points break the line.
export function lineChart(series, { format = (v) => String(v), height = 220, title } = {}) {
  const width = 560;
  const pad = { left: 58, right: 24, top: 12, bottom: 26 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x.getTime()));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y !== null && Number.isFinite(y));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  if (title) chart.append(svg("title", {}, title));
  if (!xs.length || !ys.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no data in this period"));
    return h("figure", { class: "figure" }, chart);
  }
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const marks = ticks(Math.min(0, ...ys), Math.max(0, ...ys));
  const [y0, high] = [marks[0], marks[marks.length - 1]];
  const sx = (x) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y) => pad.top + (1 - (y - y0) / (high - y0)) * (height - pad.top - pad.bottom);
  for (const value of marks) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: sy(value), y2: sy(value), class: "grid-line" }));
    chart.append(svg("text", { x: pad.left - 6, y: sy(value) + 4, "text-anchor": "end" }, format(value)));
  }
  chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: sy(0), y2: sy(0), class: "axis" }));
  const labels = Math.min(6, new Set(xs).size);
  for (let i = 0; i < labels; i += 1) {
    const x = labels === 1 ? x0 : x0 + ((x1 - x0) * i) / (labels - 1);
    const label = new Date(x).toISOString().slice(5, 10);
    chart.append(svg("text", { x: sx(x), y: height - 8, "text-anchor": "middle" }, label));
  }
  series.forEach((s, index) => {
    const colour = COLOURS[index % COLOURS.length];
    let path = "";
    let drawing = false;
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) { drawing = false; continue; }
      path += `${drawing ? "L" : "M"}${sx(p.x.getTime()).toFixed(1)},${sy(p.y).toFixed(1)}`;
      drawing = true;
      const dot = svg("circle", { cx: sx(p.x.getTime()), cy: sy(p.y), r: 2.5, fill: colour });
      dot.append(svg("title", {}, `${s.name} ${p.x.toISOString().slice(0, 10)}: ${format(p.y)}`));
      chart.append(dot);
    }
    chart.append(svg("path", { d: path, fill: "none", stroke: colour, "stroke-width": 2 }));
  });
  return h("figure", { class: "figure" }, chart, legend(series.map((s) => s.name)));
}

// bars: [{label, value}], drawn left to right by size as given.
export function barChart(bars, { format = (v) => String(v), title } = {}) {
  const width = 560;
  const row = 24;
  const pad = { left: 130, right: 80 };
  const height = Math.max(row * bars.length + 8, 40);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  if (title) chart.append(svg("title", {}, title));
  if (!bars.length) {
    chart.append(svg("text", { x: width / 2, y: 24, "text-anchor": "middle" }, "no data in this period"));
    return chart;
  }
  const top = niceMax(Math.max(...bars.map((b) => Math.abs(b.value)), 0) || 1);
  bars.forEach((bar, index) => {
    const y = 4 + index * row;
    const length = (Math.abs(bar.value) / top) * (width - pad.left - pad.right);
    chart.append(svg("text", { x: pad.left - 8, y: y + 15, "text-anchor": "end" }, bar.label));
    chart.append(svg("rect", { x: pad.left, y: y + 3, width: Math.max(length, 1), height: row - 8, rx: 3, fill: COLOURS[index % COLOURS.length] }));
    chart.append(svg("text", { x: pad.left + length + 6, y: y + 15 }, format(bar.value)));
  });
  return chart;
}

export function legend(names) {
  return h("div", { class: "legend" }, names.map((name, index) => h("span", { class: `s${index % 8}` }, name)));
}
