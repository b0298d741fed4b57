// KPIs: what the offers earned over time, by offer kind or channel, against the
// holdout; a date range picker. Drawn from GET /v1/kpis/series and GET /v1/kpis.

import { api } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { count, h, money, number, percent, table } from "../dom.js";

const DAY = 86400000;

export async function render(root) {
  const today = new Date(Math.floor(Date.now() / DAY) * DAY);
  const from = h("input", { type: "date", name: "from", value: isoDay(new Date(today - 90 * DAY)) });
  const to = h("input", { type: "date", name: "to", value: isoDay(new Date(today.getTime() + DAY)) });
  const interval = h("select", { name: "interval" }, ["week", "day", "month"].map((v) => h("option", { value: v }, v)));
  const groupBy = h("select", { name: "group_by" }, h("option", { value: "kind" }, "offer kind"), h("option", { value: "channel" }, "channel"));
  const form = h("form", { class: "bar", id: "kpi-form" },
    h("label", {}, "From", from), h("label", {}, "To (exclusive)", to),
    h("label", {}, "Interval", interval), h("label", {}, "Split by", groupBy),
    h("button", { type: "submit" }, "Show"),
  );
  const body = h("div", { id: "kpi-body" });
  root.append(h("h1", {}, "KPIs"), h("div", { class: "card" }, form), body);
  const show = async () => {
    const query = { from: from.value, to: to.value, group_by: groupBy.value };
    body.replaceChildren(h("p", { class: "loading" }, "Computing…"));
    const [series, total] = await Promise.all([
      api("kpis/series", { query: { ...query, interval: interval.value } }),
      api("kpis", { query }),
    ]);
    draw(body, series, total, groupBy.value);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    show().catch((error) => body.replaceChildren(h("p", { class: "message error", role: "alert" }, error.message)));
  });
  await show();
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function draw(body, series, total, groupBy) {
  const buckets = series.buckets;
  const x = (b) => new Date(b.from);
  const groups = [...new Set(buckets.flatMap((b) => b.groups.map((g) => g.group)))].sort();
  const acceptance = [
    { name: "all offers", points: buckets.map((b) => ({ x: x(b), y: b.overall.offers.acceptance_rate })) },
    ...groups.map((name) => ({
      name,
      points: buckets.map((b) => ({ x: x(b), y: b.groups.find((g) => g.group === name)?.offers.acceptance_rate ?? null })),
    })),
  ];
  const sides = (pick) => [
    { name: "treated", points: buckets.map((b) => ({ x: x(b), y: pick(b.overall.outcomes)?.treated ?? null })) },
    { name: "holdout", points: buckets.map((b) => ({ x: x(b), y: pick(b.overall.outcomes)?.holdout ?? null })) },
  ];
  const uplift = [{ name: "revenue per customer, treated − holdout", points: buckets.map((b) => ({ x: x(b), y: b.overall.outcomes?.revenue_per_customer.uplift ?? null })) }];
  const o = total.overall.offers;
  const chart = (id, title, element, note) => h("section", { class: "card", id }, h("h2", {}, title), note ? h("p", { class: "muted small" }, note) : null, element);
  body.replaceChildren(
    h("div", { class: "stats" },
      h("div", { class: "stat" }, h("div", { class: "value" }, count(o.impressions)), h("div", { class: "label" }, "impressions")),
      h("div", { class: "stat" }, h("div", { class: "value" }, percent(o.acceptance_rate)), h("div", { class: "label" }, "acceptance rate")),
      h("div", { class: "stat" }, h("div", { class: "value" }, count(o.accepts)), h("div", { class: "label" }, "accepted")),
      h("div", { class: "stat" }, h("div", { class: "value" }, money(o.attributed_revenue)), h("div", { class: "label" }, "revenue attributed")),
    ),
    h("div", { class: "charts" },
      chart("acceptance", `Offer acceptance by ${groupBy === "kind" ? "offer kind" : "channel"}`, lineChart(acceptance, { format: (v) => percent(v, 0) }), `accepts / impressions per ${series.interval}`),
      chart("revenue-by-group", `Attributed revenue by ${groupBy === "kind" ? "offer kind" : "channel"}`,
        barChart(total.groups.map((g) => ({ label: g.group, value: g.offers.attributed_revenue })), { format: (v) => money(v) }),
        `purchases of the offered item within ${number(total.attribution_days, 0)} days of an offer, whole period (plan changes: see the table below)`),
      chart("upsell-rate", "Upsell rate", lineChart(sides((out) => out?.upsell_rate), { format: (v) => percent(v, 2) }), "share of customers moving to a higher plan, treated against the holdout"),
      chart("cross-sell-rate", "Cross-sell rate", lineChart(sides((out) => out?.cross_sell_rate), { format: (v) => percent(v, 1) }), "share of customers buying an item new to them"),
      chart("order-value", "Average order value", lineChart(sides((out) => out?.average_order_value), { format: (v) => money(v) })),
      chart("revenue-uplift", "Revenue uplift vs the holdout", lineChart(uplift, { format: (v) => money(v) }), "revenue per customer, treated minus holdout"),
    ),
    outcomes(total),
    h("section", { class: "card", id: "kpi-groups" },
      h("h2", {}, `Offers by ${groupBy === "kind" ? "kind" : "channel"}`),
      table(
        [
          { label: groupBy, value: (g) => g.group },
          { label: "impressions", num: true, value: (g) => count(g.offers.impressions) },
          { label: "clicks", num: true, value: (g) => count(g.offers.clicks) },
          { label: "accepts", num: true, value: (g) => count(g.offers.accepts) },
          { label: "acceptance", num: true, value: (g) => percent(g.offers.acceptance_rate) },
          { label: "dismissals", num: true, value: (g) => count(g.offers.dismissals) },
          { label: "attributed revenue", num: true, value: (g) => money(g.offers.attributed_revenue) },
          { label: "plan changes", num: true, value: (g) => count(g.offers.attributed_plan_changes) },
          { label: "monthly revenue moved", num: true, value: (g) => money(g.offers.attributed_monthly_revenue) },
        ],
        total.groups,
        { empty: "No offer events in this period." },
      ),
    ),
  );
}

function outcomes(total) {
  const out = total.overall.outcomes;
  const rows = [
    ["Upsell rate", out.upsell_rate, (v) => percent(v, 2)],
    ["Cross-sell rate", out.cross_sell_rate, (v) => percent(v, 2)],
    ["Average order value", out.average_order_value, (v) => money(v)],
    ["Revenue per customer", out.revenue_per_customer, (v) => money(v)],
    ["LTV change", out.ltv_change, (v) => money(v)],
  ];
  return h("section", { class: "card", id: "outcomes" },
    h("h2", {}, "Treated against holdout, whole period"),
    h("p", { class: "muted small" }, `${count(out.customers.treated)} treated and ${count(out.customers.holdout)} holdout customers (${percent(total.holdout_share, 0)} held out). An uplift whose interval contains 0 is not shown to be real.`),
    table(
      [
        { label: "KPI", value: (r) => r[0] },
        { label: "treated", num: true, value: (r) => r[2](r[1].treated) },
        { label: "holdout", num: true, value: (r) => r[2](r[1].holdout) },
        { label: "uplift", num: true, value: (r) => r[2](r[1].uplift) },
        { label: "95 % interval", num: true, value: (r) => (r[1].ci95 ? `${r[2](r[1].ci95[0])} … ${r[2](r[1].ci95[1])}` : "—") },
        { label: "p-value", num: true, value: (r) => number(r[1].p_value, 3) },
      ],
      rows,
    ),
  );
}
