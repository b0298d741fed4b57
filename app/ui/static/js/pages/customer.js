// Customer view: look a customer up; their profile, current offers with reasons,
// timing and channel, what the guardrails held back (explain), and purchase history.

import { api } from "../api.js";
import { badge, clear, count, day, facts, h, message, money, moment, number, percent, table } from "../dom.js";

const PAGE = 20;

export async function render(root, customerId) {
  const input = h("input", { name: "customer", value: customerId, placeholder: "customer id, e.g. C000171", required: true, size: 28 });
  const explain = h("input", { type: "checkbox", name: "explain", checked: sessionStorage.getItem("nextbest.explain") === "1" });
  const form = h("form", { class: "bar", id: "customer-form" },
    h("label", {}, "Customer id", input),
    h("label", { class: "checkbox" }, explain, "Explain (show what was held back)"),
    h("button", { type: "submit" }, "Look up"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("nextbest.explain", explain.checked ? "1" : "0");
    const id = input.value.trim();
    const target = `#/customer/${encodeURIComponent(id)}`;
    if (window.location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else window.location.hash = target; // the shell shows the page again on either
  });
  root.append(h("h1", {}, "Customer"), h("div", { class: "card" }, form));
  if (!customerId) {
    root.append(h("p", { class: "muted" }, "Enter a customer id to see their profile, offers and purchases."));
    return;
  }
  const id = encodeURIComponent(customerId);
  const query = explain.checked ? { explain: "true" } : {};
  const [profile, offers] = await Promise.all([
    api(`customers/${id}/profile`),
    api(`customers/${id}/offers`, { query }),
  ]);
  root.append(
    h("div", { class: "grid" }, who(profile), subscription(profile.subscription), tickets(profile.open_tickets)),
    offerList(offers),
  );
  if (offers.held_back) root.append(heldBack(offers.held_back));
  const history = h("section", { class: "card", id: "purchases" });
  root.append(history);
  await purchases(history, id, 0);
}

function who(p) {
  const rfm = p.rfm;
  return h("section", { class: "card", id: "profile" },
    h("h2", {}, p.customer_id),
    facts([
      ["Segment", rfm ? h("span", {}, badge(rfm.segment.replace("_", " ")), " ", h("span", { class: "muted small" }, rfm.meaning)) : "—"],
      ["RFM scores", rfm && rfm.r ? `R ${rfm.r} · F ${rfm.f} · M ${rfm.m}` : "—"],
      ["Last purchase", rfm ? day(rfm.last_purchase_at) : "—"],
      ["Orders (365 d)", rfm ? count(rfm.frequency) : "—"],
      ["Sales (365 d)", rfm ? money(rfm.monetary) : "—"],
      ["Country", p.country],
      ["Account", p.account_id],
      ["Marketing", p.marketing_opt_out ? badge("opted out", "warn") : "may be contacted"],
      ["Customer since", day(p.created_at)],
    ]),
    p.notes.map((note) => h("p", { class: "muted small" }, note)),
  );
}

function subscription(s) {
  const card = h("section", { class: "card", id: "subscription" }, h("h2", {}, "Plan"));
  if (!s) {
    card.append(h("p", { class: "muted" }, "No live subscription."));
    return card;
  }
  card.append(
    facts([
      ["Plan", `${s.name || s.plan_id} (${s.billing_period})`],
      ["Status", badge(s.status, s.status === "past_due" ? "rejected" : "active")],
      ["Price", `${money(s.monthly_price, s.currency)} / month`],
      ["Renews", s.renews_at ? moment(s.renews_at) : "—"],
      ["Since", day(s.started_at)],
    ]),
    h("h3", {}, "Usage against limits"),
    table(
      [
        { label: "metric", value: (u) => u.metric.replace("_", " ") },
        { label: "used", num: true, value: (u) => `${number(u.used, 1)}${u.limit ? ` of ${number(u.limit, 0)}` : ""}` },
        { label: "", value: (u) => meter(u.ratio) },
      ],
      s.usage,
      { empty: "No usage measured." },
    ),
  );
  return card;
}

function meter(ratio) {
  if (ratio === null || ratio === undefined) return h("span", { class: "muted small" }, "no limit");
  const bar = h("span", {});
  bar.style.width = `${Math.min(ratio, 1) * 100}%`;
  return h("div", { class: "small" }, h("div", { class: ratio >= 0.8 ? "meter high" : "meter" }, bar), percent(ratio, 0));
}

function tickets(open) {
  return h("section", { class: "card", id: "tickets" },
    h("h2", {}, "Open tickets"),
    table([{ label: "ticket", value: (t) => t.ticket_id }, { label: "kind", value: (t) => (t.kind === "complaint" ? badge("complaint", "rejected") : t.kind) }, { label: "opened", value: (t) => day(t.opened_at) }], open, { empty: "None open." }),
  );
}

function offerList(answer) {
  const card = h("section", { class: "card", id: "offers" }, h("h2", {}, "Next best offers"));
  if (answer.holdout) card.append(message("info", "In the holdout group: no offers, by design (uplift is measured against these customers)."));
  if (answer.degraded) card.append(message("error", "The database could not be read: no offer is made while the guardrails cannot be checked."));
  const g = answer.guardrails;
  card.append(h("p", { class: "muted small" }, `Frequency cap ${g.cap} per ${number(g.window_days, 0)} days; shown so far: ${g.shown_in_window ?? "unknown"}. Model ${answer.model_version}.`));
  if (!answer.offers.length) {
    card.append(h("p", { class: "muted" }, "No offer now." + (answer.held_back ? "" : " Tick Explain to see what was held back.")));
    return card;
  }
  card.append(h("div", { class: "offers" }, answer.offers.map(offer)));
  return card;
}

function offer(o) {
  const title = o.plan ? `${o.plan.name || o.plan.plan_id} (${o.plan.billing_period})` : o.items.map((i) => i.name || i.item_id).join(" + ");
  const timing = o.timing.when === "now" ? "now" : `${o.timing.when.replace("_", " ")} ${day(o.timing.at)}`;
  return h("article", { class: "offer", "data-offer": o.offer_id },
    h("div", { class: "head" }, badge(o.kind.replace("_", " ")), h("span", { class: "muted small" }, o.offer_id)),
    h("div", { class: "title" }, title),
    h("div", { class: "numbers" },
      h("span", {}, "expected ", h("b", {}, money(o.expected_value, o.currency))),
      h("span", {}, "chance ", h("b", {}, percent(o.probability, 0))),
      h("span", {}, "value ", h("b", {}, money(o.value, o.currency))),
    ),
    h("div", { class: "numbers" },
      h("span", {}, "when ", h("b", { class: "timing" }, timing)),
      h("span", {}, "channel ", h("b", { class: "channel" }, o.channel.replace("_", "-"))),
      h("span", {}, o.channel_evidence.learned ? `learned from ${o.channel_evidence.impressions} impressions` : "default for the kind"),
    ),
    h("ul", { class: "reasons" }, o.reasons.map((r) => h("li", {}, r.text))),
  );
}

function heldBack(rows) {
  return h("section", { class: "card", id: "held-back" },
    h("h2", {}, "Held back by the guardrails"),
    table(
      [
        { label: "rule", value: (r) => badge(r.rule, "warn") },
        { label: "offer", value: (r) => r.offer_id || r.kind },
        { label: "expected value", num: true, value: (r) => money(r.expected_value) },
        { label: "why", value: (r) => r.text || "" },
      ],
      rows,
      { empty: "Nothing was held back." },
    ),
  );
}

async function purchases(card, id, offset) {
  const page = await api(`customers/${id}/purchases`, { query: { limit: PAGE, offset } });
  const previous = h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => purchases(card, id, Math.max(offset - PAGE, 0)) }, "Newer");
  const next = h("button", { type: "button", class: "secondary", disabled: offset + PAGE >= page.total, onclick: () => purchases(card, id, offset + PAGE) }, "Older");
  clear(card,
    h("h2", {}, `Purchase history (${count(page.total)} lines)`),
    table(
      [
        { label: "date", value: (l) => day(l.purchased_at) },
        { label: "order", value: (l) => l.order_id },
        { label: "item", value: (l) => h("a", { href: `#/item/${encodeURIComponent(l.item_id)}` }, l.name || l.item_id) },
        { label: "kind", value: (l) => (l.kind === "return" ? badge("return", "warn") : "sale") },
        { label: "qty", num: true, value: (l) => number(l.quantity) },
        { label: "unit price", num: true, value: (l) => money(l.unit_price, l.currency) },
      ],
      page.purchases,
      { empty: "No purchases." },
    ),
    page.total > PAGE ? h("div", { class: "pager" }, previous, next, h("span", { class: "muted small" }, `${offset + 1}–${Math.min(offset + PAGE, page.total)} of ${count(page.total)}`)) : null,
  );
}
