// Every call the console makes goes through api(): the /v1 API with the key the user
// typed, kept in sessionStorage (this browser session only), and one error handling.

const KEY = "nextbest.key";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function rememberKey(key) {
  sessionStorage.setItem(KEY, key.trim());
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

// Listeners told when the key is refused (401): the console asks for another one.
const refusals = [];
export function onKeyRefused(listener) {
  refusals.push(listener);
}

// GET (or `method`) a /v1 path with a query; JSON back, or text with accept "text/csv".
export async function api(path, { method = "GET", query = {}, accept = "application/json" } = {}) {
  const url = new URL(`/v1/${path.replace(/^\//, "")}`, window.location.origin);
  for (const [name, value] of Object.entries(query)) {
    for (const one of [].concat(value)) {
      if (one !== undefined && one !== null && one !== "") url.searchParams.append(name, one);
    }
  }
  const key = storedKey();
  const response = await fetch(url, {
    method,
    headers: { Accept: accept, Authorization: `Bearer ${key || ""}` },
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) {
      forgetKey();
      refusals.forEach((listener) => listener(error));
    }
    throw error;
  }
  if (accept === "text/csv") {
    return { text: await response.text(), filename: filenameOf(response) };
  }
  return response.json();
}

async function errorOf(response) {
  let code = "error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    code = body.error.code;
    message = body.error.message;
  } catch {
    // not the error shape: keep the status line
  }
  if (response.status === 403) {
    const scope = (message.match(/lacks the '(\w+)' scope/) || [])[1];
    message = scope === "admin"
      ? `This page needs an admin key: ${message}.`
      : `This page needs a key with the '${scope || "right"}' scope: ${message}.`;
  }
  return new ApiError(response.status, code, message);
}

function filenameOf(response) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  return match ? match[1] : "targets.csv";
}
