// Small helpers to build the pages: elements, numbers, dates. Text goes in as text,
// never as HTML, so nothing the API returns can run as markup.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function table(columns, rows, { empty = "Nothing to show." } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "" }, c.label)));
  const body = rows.map((row) =>
    h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : "" }, c.value(row)))),
  );
  return h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value ?? "—")]));
}

export function message(kind, text) {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function stat(label, value) {
  return h("div", { class: "stat" }, h("div", { class: "value" }, value), h("div", { class: "label" }, label));
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function count(value) {
  return value === null || value === undefined ? "—" : integer.format(value);
}

export function number(value, digits = 2) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat("en", { maximumFractionDigits: digits }).format(value);
}

export function money(value, currency) {
  if (value === null || value === undefined) return "—";
  if (!currency) return decimal.format(value);
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(value);
}

export function percent(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return `${(value * 100).toFixed(digits)} %`;
}

export function day(iso) {
  return iso ? iso.slice(0, 10) : "—";
}

export function moment(iso) {
  if (!iso) return "—";
  return `${iso.slice(0, 16).replace("T", " ")} UTC (${ago(iso)})`;
}

export function stamp(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "—";
}

export function ago(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const [n, unit] =
    s < 90 ? [Math.round(s), "s"] : s < 5400 ? [Math.round(s / 60), "min"]
      : s < 172800 ? [Math.round(s / 3600), "h"] : [Math.round(s / 86400), "days"];
  return future ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function loading(text = "Loading…") {
  return h("p", { class: "loading" }, text);
}
