// Item view: an item's complements (with support, confidence, lift), similar items and
// premium alternatives, each with the engine's reasons.

import { api } from "../api.js";
import { h, money, number, percent, table } from "../dom.js";

const KINDS = [
  ["complement", "Frequently bought together"],
  ["similar", "Similar items"],
  ["premium", "Premium alternatives"],
];

export async function render(root, itemId) {
  const input = h("input", { name: "item", value: itemId, placeholder: "item id, e.g. I00221", required: true, size: 24 });
  const form = h("form", { class: "bar", id: "item-form" }, h("label", {}, "Item id", input), h("button", { type: "submit" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.location.hash = `#/item/${encodeURIComponent(input.value.trim())}`;
  });
  root.append(h("h1", {}, itemId ? `Item ${itemId}` : "Item"), h("div", { class: "card" }, form));
  if (!itemId) {
    root.append(h("p", { class: "muted" }, "Enter an item id to see what goes with it, what is like it and what is a step up."));
    return;
  }
  const id = encodeURIComponent(itemId);
  const answers = await Promise.all(KINDS.map(([kind]) => api(`items/${id}/related`, { query: { kind, limit: 10 } })));
  answers.forEach((answer, index) => root.append(section(KINDS[index], answer)));
}

function section([kind, title], answer) {
  const columns = [
    { label: "item", value: (s) => h("a", { href: `#/item/${encodeURIComponent(s.item_id)}` }, s.name || s.item_id) },
    { label: "category", value: (s) => s.category || "" },
    { label: "price", num: true, value: (s) => money(s.price) },
  ];
  if (kind === "complement") {
    columns.push(
      { label: "support", num: true, value: (s) => number(s.support, 0) },
      { label: "confidence", num: true, value: (s) => percent(s.confidence) },
      { label: "lift", num: true, value: (s) => number(s.lift, 2) },
    );
  }
  if (kind === "premium") columns.push({ label: "costs more by", num: true, value: (s) => money(s.price_difference) });
  columns.push({ label: "evidence", value: (s) => s.reasons.map((r) => r.text).join("; ") });
  return h("section", { class: "card", id: kind }, h("h2", {}, title), table(columns, answer.items, { empty: "None found for this item." }));
}
