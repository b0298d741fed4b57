// Campaigns: build a target list (an upgrade to a plan, or an item to cross-sell),
// preview it, download it as the same list in CSV for a CRM.

import { api } from "../api.js";
import { count, h, money, percent, table } from "../dom.js";

export async function render(root) {
  const kind = h("select", { name: "kind" }, h("option", { value: "upgrade" }, "Upgrade"), h("option", { value: "cross_sell" }, "Cross-sell an item"));
  const plan = h("input", { name: "plan", placeholder: "any plan, or e.g. pro", size: 16 });
  const item = h("input", { name: "item", placeholder: "e.g. I00221", size: 14 });
  const limit = h("input", { name: "limit", type: "number", min: 1, max: 5000, value: 50, size: 6 });
  const download = h("button", { type: "button", class: "secondary", id: "download" }, "Download CSV");
  const form = h("form", { class: "bar", id: "campaign-form" },
    h("label", {}, "Offer", kind),
    h("label", {}, "Plan (upgrade)", plan),
    h("label", {}, "Item (cross-sell)", item),
    h("label", {}, "Size", limit),
    h("button", { type: "submit" }, "Preview"),
    download,
  );
  const result = h("div", { id: "campaign-result" });
  root.append(h("h1", {}, "Campaigns"), h("div", { class: "card" }, form), result);
  const query = () => ({
    kind: kind.value,
    plan: kind.value === "upgrade" ? plan.value.trim() : "",
    item: kind.value === "cross_sell" ? item.value.trim() : "",
    limit: limit.value,
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(result, async () => preview(result, await api("campaigns/targets", { query: query() })));
  });
  download.addEventListener("click", () =>
    guarded(result, async () => save(await api("campaigns/targets", { query: query(), accept: "text/csv" }))),
  );
}

async function guarded(result, action) {
  try {
    await action();
  } catch (error) {
    result.replaceChildren(h("p", { class: "message error", role: "alert" }, error.message));
  }
}

function preview(result, answer) {
  const excluded = Object.entries(answer.excluded).filter(([, n]) => n).map(([rule, n]) => `${rule} ${count(n)}`).join(", ");
  result.replaceChildren(
    h("section", { class: "card" },
      h("h2", {}, `${count(answer.targets.length)} customers to contact`),
      h("p", { class: "muted small" }, `${count(answer.considered)} prospects considered; left out: ${excluded || "none"}. Ranked by model ${answer.model_version}.`),
      table(
        [
          { label: "#", num: true, value: (t) => t.rank },
          { label: "customer", value: (t) => h("a", { href: `#/customer/${encodeURIComponent(t.customer_id)}` }, t.customer_id) },
          { label: "offer", value: (t) => t.offer_id },
          { label: "chance", num: true, value: (t) => percent(t.probability) },
          { label: "value", num: true, value: (t) => money(t.value, answer.currency) },
          { label: "expected", num: true, value: (t) => money(t.expected_value, answer.currency) },
          { label: "channel", value: (t) => t.channel },
          { label: "why", value: (t) => h("span", { class: "small" }, t.reason) },
        ],
        answer.targets,
        { empty: "Nobody to contact about this offer now." },
      ),
    ),
  );
}

function save({ text, filename }) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
