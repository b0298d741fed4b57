// Models (admin): every trained version with its metrics side by side, the active one,
// activate another or roll back; servers switch on their next refresh.

import { api } from "../api.js";
import { badge, h, message, number, stamp, table } from "../dom.js";

export async function render(root) {
  root.append(h("h1", {}, "Models"));
  const status = h("div", { id: "model-status" });
  const list = h("section", { class: "card", id: "versions" });
  root.append(status);
  await refresh(list, status);
  root.append(list); // only once the list is there: a refused key gets the message alone
}

async function refresh(list, status) {
  const answer = await api("models");
  const names = [...new Set(answer.versions.flatMap((v) => Object.keys(v.metrics).filter((k) => typeof v.metrics[k] === "number")))];
  const shown = names.filter((n) => /@|coverage/.test(n)).slice(0, 6); // the ranking metrics
  const act = (fn) => async () => {
    try {
      const done = await fn();
      status.replaceChildren(message("ok", done.message));
    } catch (error) {
      status.replaceChildren(message("error", error.message));
    }
    await refresh(list, status);
    setTimeout(() => list.isConnected && refresh(list, status).catch(() => {}), 2500); // serving
  };
  const rollback = h("button", { type: "button", class: "secondary", id: "rollback", onclick: act(() => api("models/rollback", { method: "POST" })) }, "Roll back to the previous version");
  list.replaceChildren(
    h("div", { class: "bar" }, h("h2", {}, `${answer.versions.length} version${answer.versions.length === 1 ? "" : "s"}`), " "),
    h("p", { class: "muted small" }, `Active: ${answer.active || "none"} · this server answers from ${answer.serving || "no model"}.`),
    table(
      [
        { label: "version", value: (v) => h("code", {}, v.version) },
        { label: "status", value: (v) => badge(v.status, v.status) },
        ...shown.map((name) => ({ label: name, num: true, value: (v) => number(v.metrics[name], 3) })),
        { label: "trained (UTC)", value: (v) => h("span", { class: "small" }, stamp(v.created_at)) },
        { label: "secs", num: true, value: (v) => number(v.training_seconds, 1) },
        { label: "note", value: (v) => h("span", { class: "small" }, v.note || "") },
        {
          label: "",
          value: (v) => (v.status === "active" ? "" : h("button", { type: "button", class: "secondary", "data-version": v.version, onclick: act(() => api(`models/${encodeURIComponent(v.version)}/activate`, { method: "POST" })) }, "Activate")),
        },
      ],
      answer.versions,
      { empty: "No versions yet: run nextbest train." },
    ),
    h("div", { class: "pager" }, rollback),
  );
}
