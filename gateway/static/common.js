// What the dashboard's modules share: the API key, requests that surface the server's
// problem document, building elements, and how figures and instants are written.

const KEY_STORAGE = "dialstream.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function keepKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function authorization() {
  return { Authorization: `Bearer ${apiKey()}` };
}

// The RFC 9457 problem document of a failed response, as an Error a user can read.
export async function problemOf(response) {
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    // Not JSON (a proxy's page, say): the status line is all there is.
  }
  const title = problem.title || response.statusText || "Request failed";
  const error = new Error(problem.detail ? `${title}: ${problem.detail}` : `${title} (HTTP ${response.status})`);
  error.status = response.status;
  error.problem = problem;
  return error;
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { ...authorization(), Accept: "application/json" };
  const init = { method, headers, signal, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? null : response.json();
}

// el("td", {class: "num", "data-field": "x"}, "text", child, ...)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// Writing only what differs keeps the DOM (and a screen reader's place in it) still.
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

const counts = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const short = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function count(value) {
  return typeof value === "number" ? counts.format(value) : "—";
}

export function percent(value) {
  return typeof value === "number" ? `${decimals.format(value)} %` : "—";
}

// An axis label: as few digits as the value needs.
export function shortNumber(value) {
  return short.format(value);
}

export function ratio(value) {
  return typeof value === "number" ? decimals.format(value) : "—";
}

const formatters = new Map();

// Intl formatters for a time zone the server names; an unknown zone falls back to UTC rather
// than leaving the page blank.
function formatter(zone, kind) {
  const key = `${zone}|${kind}`;
  if (!formatters.has(key)) {
    const options =
      kind === "time"
        ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
        : {
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
            hourCycle: "h23",
          };
    let made;
    try {
      made = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: zone || "UTC" });
    } catch {
      made = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: "UTC" });
    }
    formatters.set(key, made);
  }
  return formatters.get(key);
}

// "14:45" in the dashboard's time zone.
export function clock(instant, zone) {
  return formatter(zone, "time").format(new Date(instant));
}

// "2026-12-04 16:24:11" in the dashboard's time zone, whatever the browser's locale.
export function dateTime(instant, zone) {
  if (!instant) return "—";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  const part = Object.fromEntries(formatter(zone, "full").formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

export function humanize(code) {
  return code ? String(code).replaceAll("_", " ") : "—";
}
