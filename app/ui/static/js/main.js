// The console's shell: the key prompt, the navigation, and a page per hash route
// (#/overview, #/kpis, #/customer/<id>, #/item/<id>, #/models, #/campaigns).

import { ApiError, forgetKey, onKeyRefused, rememberKey, storedKey } from "./api.js";
import { clear, h, message } from "./dom.js";
import * as campaigns from "./pages/campaigns.js";
import * as customer from "./pages/customer.js";
import * as item from "./pages/item.js";
import * as kpis from "./pages/kpis.js";
import * as models from "./pages/models.js";
import * as overview from "./pages/overview.js";

const PAGES = { overview, kpis, customer, item, models, campaigns };
const page = document.getElementById("page");
const login = document.getElementById("login");
const keyMessage = document.getElementById("key-message");

function route() {
  const [name, ...rest] = window.location.hash.replace(/^#\/?/, "").split("/");
  const known = name in PAGES ? name : "overview";
  return { name: known, argument: rest.length ? decodeURIComponent(rest.join("/")) : "" };
}

function askForKey(text) {
  page.hidden = true;
  login.hidden = false;
  keyMessage.hidden = !text;
  keyMessage.textContent = text || "";
  document.getElementById("key-id").textContent = "";
  document.getElementById("key-input").focus();
}

async function show() {
  if (!storedKey()) {
    askForKey();
    return;
  }
  login.hidden = true;
  page.hidden = false;
  const key = storedKey();
  document.getElementById("key-id").textContent = `key ${key.split("_")[1] || "?"}`;
  const { name, argument } = route();
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.dataset.page === name);
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · NextBest console`;
  const root = h("div", { class: "page", "data-page": name }); // a late answer of the
  clear(page, root); // page shown before lands in its own detached element, not here
  try {
    await PAGES[name].render(root, argument);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // the key prompt shows
    root.append(message("error", error.message));
  } finally {
    root.dataset.ready = "true"; // every call of the page has answered (tests wait on it)
  }
}

onKeyRefused((error) => {
  askForKey(`That API key was not accepted: ${error.message}. Enter a valid key.`);
});

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("key-input");
  rememberKey(input.value);
  input.value = "";
  show();
});

document.getElementById("change-key").addEventListener("click", () => {
  forgetKey();
  askForKey();
});

window.addEventListener("hashchange", show);
show();
