// Overview: how much data, how fresh, which model serves with its metrics, the latest
// imports and why rows were refused (the rows themselves need an admin key).

import { api } from "../api.js";
import { badge, count, facts, h, message, moment, number, stamp, stat, table } from "../dom.js";

export async function render(root) {
  root.append(h("h1", {}, "Overview"));
  const data = await api("overview");
  const c = data.counts;
  root.append(
    h("div", { class: "stats" },
      stat("Customers", count(c.customers)),
      stat("Items", count(c.items)),
      stat("Purchase lines", count(c.purchases)),
      stat("Subscriptions", `${count(c.subscriptions)}`),
      stat("Live subscriptions", count(c.live_subscriptions)),
      stat("Offer events", count(c.offer_events)),
    ),
  );
  const f = data.freshness;
  const model = data.active_model;
  root.append(
    h("div", { class: "grid" },
      h("section", { class: "card", id: "freshness" },
        h("h2", {}, "Data freshness"),
        facts([
          ["Newest purchase", moment(f.newest_purchase_at)],
          ["Last import", moment(f.last_import_at)],
          ["Last training", moment(f.last_training_at)],
        ]),
      ),
      h("section", { class: "card", id: "active-model" },
        h("h2", {}, "Active model"),
        model ? modelFacts(model, data.serving) : h("p", { class: "muted" }, "Nothing trained yet: run nextbest train."),
      ),
    ),
  );
  root.append(imports(data.recent_imports));
}

function modelFacts(model, serving) {
  const metrics = Object.entries(model.metrics).filter(([, v]) => typeof v === "number");
  return h("div", {},
    facts([
      ["Version", h("code", {}, model.version)],
      ["Status", badge(model.status, model.status)],
      ["Trained", moment(model.created_at)],
      ["Training time", model.training_seconds === null ? "—" : `${number(model.training_seconds, 1)} s`],
      ["Serving here", serving === model.version ? "yes" : `${serving || "nothing"} (switches on the next refresh)`],
      ["Note", model.note],
    ]),
    h("h3", {}, "Offline metrics"),
    metrics.length
      ? table([{ label: "metric", value: (m) => m[0] }, { label: "value", num: true, value: (m) => number(m[1], 4) }], metrics)
      : h("p", { class: "muted" }, "No holdout metrics: train with --holdout-days to measure."),
  );
}

function imports(runs) {
  const rows = h("div", { id: "rejected-rows" });
  const button = h("button", { type: "button", class: "secondary", onclick: () => showRows(rows, button) },
    "Show the refused rows (admin key)");
  return h("section", { class: "card", id: "imports" },
    h("h2", {}, "Latest imports"),
    table(
      [
        { label: "table", value: (r) => r.target },
        { label: "finished (UTC)", value: (r) => stamp(r.finished_at) },
        { label: "rows", num: true, value: (r) => count(r.submitted) },
        { label: "new", num: true, value: (r) => count(r.inserted) },
        { label: "updated", num: true, value: (r) => count(r.updated) },
        { label: "rejected", num: true, value: (r) => (r.rejected ? badge(count(r.rejected), "rejected") : "0") },
        { label: "why rejected", value: (r) => reasons(r.reject_reasons) },
      ],
      runs,
      { empty: "No import yet." },
    ),
    h("p", { class: "muted small" }, "Reasons have their values blanked; the rows themselves may name customers, so they need an admin key."),
    button,
    rows,
  );
}

function reasons(found) {
  const entries = Object.entries(found || {});
  if (!entries.length) return "";
  return h("ul", { class: "small" }, entries.map(([reason, n]) => h("li", {}, `${count(n)} × ${reason}`)));
}

async function showRows(target, button) {
  button.disabled = true;
  try {
    const answer = await api("imports", { query: { limit: 10, rejects: 10 } });
    const rejects = answer.runs.flatMap((run) => run.rejects.map((r) => ({ ...r, target: run.target, run: run.run_id })));
    target.replaceChildren(
      h("h3", {}, "Refused rows"),
      table(
        [
          { label: "table", value: (r) => r.target },
          { label: "at", num: true, value: (r) => r.position },
          { label: "field", value: (r) => r.field || "" },
          { label: "reason", value: (r) => r.reason },
          { label: "row", value: (r) => h("code", {}, r.raw.slice(0, 160)) },
        ],
        rejects,
        { empty: "No refused rows in the latest imports." },
      ),
    );
  } catch (error) {
    target.replaceChildren(message("error", error.message));
    button.disabled = false;
  }
}
