// One section per campaign group, one line per contact list under it, and the account's
// total line. Built once, then only the text of cells that changed is written.

import { api, count, el, humanize, percent, ratio, setText } from "./common.js";
import { AGENT_STATES, chartsBlock } from "./series.js";

// The columns of a list line (and of the account's line): data-field, header, value.
export const LIST_COLUMNS = [
  ["records_total", "Records", (line) => count(line.records.total)],
  ["in_progress", "In progress", (line) => count(line.records.in_progress)],
  ["completed", "Completed", (line) => count(line.records.completed)],
  ["suppressed", "Suppressed", (line) => count(line.records.suppressed)],
  ["attempts", "Attempts today", (line) => count(line.today.attempts)],
  ["connects", "Connects", (line) => count(line.today.connects)],
  ["abandons", "Abandons", (line) => count(line.today.abandons)],
  ["abandon_rate", "Abandon rate", (line) => percent(line.today.abandon_rate)],
  ["answer_rate", "Answer rate", (line) => percent(line.today.answer_rate)],
  ["denied", "Denied today", (line) => denials(line.denied_today)],
];

const ACTIONS = [
  { action: "start", label: "Start", from: ["loaded", "stopped"] },
  { action: "pause", label: "Pause", from: ["running"] },
  { action: "resume", label: "Resume", from: ["paused"] },
  { action: "stop", label: "Stop", from: ["running", "paused"] },
  { action: "switch-mode", label: "Switch mode" },
];

export function denials(byReason) {
  const entries = Object.entries(byReason || {}).filter(([, n]) => n > 0);
  if (!entries.length) return "—";
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${humanize(reason)} ${count(n)}`)
    .join(" · ");
}

// The mode a predictive ⇄ progressive switch goes to; null for modes that do not switch so.
function switchTarget(mode) {
  if (mode?.startsWith("predictive")) return "progressive";
  if (mode?.startsWith("progressive")) return "predictive";
  return null;
}

export function headerRow(first) {
  const titles = LIST_COLUMNS.map(([, title]) => el("th", { scope: "col", class: "num" }, title));
  return el("tr", {}, el("th", { scope: "col" }, first), ...titles);
}

// Writes a line's figures into its data-field cells, creating them the first time.
export function fillLine(row, line) {
  for (const [field, , value] of LIST_COLUMNS) {
    let cell = row.querySelector(`td[data-field="${field}"]`);
    cell ??= row.appendChild(el("td", { class: field === "denied" ? "denied" : "num", "data-field": field }));
    setText(cell, value(line));
  }
}

// A figure of the group: its value and a line of detail, or any content.
function tile(label, field, detail) {
  const content =
    typeof detail === "object"
      ? [detail]
      : [el("span", { class: "value", "data-field": field }), detail ? el("small", { "data-field": detail }) : null];
  return el("div", { class: "tile", "data-tile": field }, el("dt", {}, label), el("dd", {}, ...content));
}

function agentsByState() {
  const states = AGENT_STATES.map((state) =>
    el("li", {}, el("span", { class: "value", "data-field": `agents_${state}` }), ` ${humanize(state)}`),
  );
  return el("ul", { class: "agents" }, ...states);
}

export class Groups {
  constructor(container, { onOpenList, charts }) {
    this.container = container;
    this.onOpenList = onOpenList;
    this.charts = charts;
    this.entries = new Map();
    this.canAct = null;
  }

  clear() {
    this.entries.forEach((_, id) => this.charts.forget(id));
    this.entries.clear();
    this.container.replaceChildren();
    this.canAct = null;
  }

  update(groups, canAct) {
    if (canAct !== this.canAct) {
      this.clear();
      this.canAct = canAct;
    }
    const seen = new Set();
    groups.forEach((group, index) => {
      const id = String(group.campaign_group_id);
      seen.add(id);
      let entry = this.entries.get(id);
      if (!entry) {
        entry = this.build(id);
        this.entries.set(id, entry);
      }
      const there = this.container.children[index];
      if (there !== entry.section) this.container.insertBefore(entry.section, there || null);
      this.fill(entry, group);
      const { at, ...figures } = group;
      this.charts.watch(id, entry.charts, JSON.stringify(figures));
    });
    for (const [id, entry] of this.entries) {
      if (seen.has(id)) continue;
      entry.section.remove();
      this.charts.forget(id);
      this.entries.delete(id);
    }
  }

  build(id) {
    const heading = `group-${id}`;
    const fields = el(
      "dl",
      { class: "tiles" },
      tile("Agents by state", "agents", agentsByState()),
      tile("Occupancy today", "occupancy", "occupancy_detail"),
      tile("Abandon rate 24 h", "abandon_24h", "abandon_24h_detail"),
      tile("Abandon rate 30 days", "abandon_30d", "abandon_30d_detail"),
      tile("Target", "abandon_target", "abandon_binding"),
      tile("Pacing", "pacing_ratio", "pacing_detail"),
      tile("Calls in flight", "lines", "dial_rate"),
      tile("Records left", "records_left", "records_dialable_now"),
      tile("Attempts today", "attempts_today", "connects_today"),
    );
    // A viewer's page has no action buttons at all (the server refuses them anyway).
    const actions = this.canAct
      ? el(
          "div",
          { class: "actions", role: "group", "aria-label": "Group actions" },
          ...ACTIONS.map(({ action, label }) => el("button", { type: "button", "data-action": action }, label)),
        )
      : null;
    const tbody = el("tbody");
    const section = el(
      "section",
      { class: "group", "data-group-id": id, "aria-labelledby": heading },
      el(
        "header",
        { class: "group-head" },
        el("h2", { id: heading, "data-field": "group_name" }),
        el("span", { class: "status", "data-field": "status" }),
        el("span", { class: "mode", title: "dialing mode", "data-field": "dialing_mode" }),
        el("span", { class: "muted" }, "agent group ", el("span", { "data-field": "agent_group" })),
        actions,
      ),
      el("p", { class: "action-message", role: "status", "aria-live": "polite" }),
      fields,
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "lists" },
          el("caption", { class: "visually-hidden" }, "Contact lists of the group"),
          el("thead", {}, headerRow("Contact list")),
          tbody,
        ),
      ),
      chartsBlock(),
    );
    const charts = section.querySelector(".charts");
    const entry = { id, section, tbody, charts, rows: new Map(), group: null, pending: false };
    // The group's own fields, not the list lines' cells (which reuse some names).
    const nodes = section.querySelectorAll(":scope > header [data-field], :scope > dl [data-field]");
    const own = new Map([...nodes].map((node) => [node.dataset.field, node]));
    entry.field = (name) => own.get(name);
    section.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", () => this.act(entry, button.dataset.action));
    });
    return entry;
  }

  fill(entry, group) {
    entry.group = group;
    const f = (name, text) => setText(entry.field(name), text);
    f("group_name", group.name);
    f("status", group.status);
    entry.field("status").className = `status status-${group.status}`;
    f("dialing_mode", humanize(group.dialing_mode || "no mode"));
    f("agent_group", group.agent_group);
    for (const state of AGENT_STATES) f(`agents_${state}`, count(group.agents?.[state] ?? 0));
    f("occupancy", percent(100 * (group.occupancy_today ?? 0)));
    f("occupancy_detail", "of logged-in time on calls and in wrap-up");
    const abandon = group.abandon || {};
    const target = abandon.target_rate;
    for (const [window, key] of [["24h", "last_24h"], ["30d", "last_30d"]]) {
      const figures = abandon[key] || {};
      f(`abandon_${window}`, percent(figures.rate));
      f(`abandon_${window}_detail`, `${count(figures.abandoned)} of ${count(figures.live_answered)} live answers`);
      const card = entry.section.querySelector(`[data-tile="abandon_${window}"]`);
      card.classList.toggle("over", typeof target === "number" && figures.rate > target);
      card.classList.toggle("near", typeof target === "number" && figures.rate > 0.8 * target && figures.rate <= target);
      card.classList.toggle("binding", abandon.binding === window);
    }
    f("abandon_target", percent(target));
    f("abandon_binding", abandon.binding ? `the ${abandon.binding === "24h" ? "24 h" : "30 days"} window binds` : "");
    const pacing = group.pacing;
    f("pacing_ratio", pacing ? ratio(pacing.ratio) : "—");
    f("pacing_detail", pacing ? `lines per agent · ${humanize(pacing.mode)} · ${humanize(pacing.reason)}` : "not paced yet");
    f("lines", count(group.calls?.lines));
    f("dial_rate", `${count(group.dial_rate_per_minute)} dials in the last minute`);
    f("records_left", count(group.records?.ready));
    f("records_dialable_now", `${count(group.records?.dialable_now)} dialable now of ${count(group.records?.total)}`);
    const lists = group.contact_lists || [];
    const sum = (name) => lists.reduce((total, line) => total + (line.today?.[name] || 0), 0);
    f("attempts_today", count(sum("attempts")));
    f("connects_today", `${count(sum("connects"))} connects · ${count(sum("abandons"))} abandons`);
    this.fillLists(entry, lists);
    this.fillActions(entry);
  }

  fillLists(entry, lists) {
    const seen = new Set();
    lists.forEach((line, index) => {
      const id = String(line.contact_list_id);
      seen.add(id);
      let row = entry.rows.get(id);
      if (!row) {
        const open = el("button", { type: "button", class: "link", title: "Show the list's records" });
        open.addEventListener("click", () => this.onOpenList(id, open.textContent, open));
        row = el("tr", { class: "list-line", "data-list-id": id },
          el("th", { scope: "row", "data-field": "name" }, open, el("small", { class: "muted", "data-field": "channel" })));
        entry.rows.set(id, row);
      }
      if (entry.tbody.children[index] !== row) entry.tbody.insertBefore(row, entry.tbody.children[index] || null);
      setText(row.querySelector("button.link"), line.name || id);
      setText(row.querySelector('[data-field="channel"]'), line.channel ? ` ${line.channel}` : "");
      fillLine(row, line);
    });
    for (const [id, row] of entry.rows) {
      if (seen.has(id)) continue;
      row.remove();
      entry.rows.delete(id);
    }
    if (!lists.length && !entry.tbody.querySelector(".empty-line")) {
      const note = el("td", { colspan: LIST_COLUMNS.length + 1, class: "muted" }, "No contact list in this group");
      entry.tbody.append(el("tr", { class: "empty-line" }, note));
    } else if (lists.length) {
      entry.tbody.querySelector(".empty-line")?.remove();
    }
  }

  fillActions(entry) {
    const { status, dialing_mode: mode } = entry.group;
    entry.section.querySelectorAll("button[data-action]").forEach((button) => {
      const { action } = button.dataset;
      if (action === "switch-mode") {
        const to = switchTarget(mode);
        setText(button, to ? `Switch to ${to}` : "Switch mode");
        button.title = to ? `Dial ${to} from now on` : "Only predictive and progressive switch while the group runs";
        button.disabled = entry.pending || !to;
      } else {
        button.disabled = entry.pending || !ACTIONS.find((a) => a.action === action).from.includes(status);
      }
    });
  }

  async act(entry, action) {
    const group = entry.group;
    const base = `/api/v1/campaign-groups/${encodeURIComponent(entry.id)}`;
    let request;
    let done;
    if (action === "switch-mode") {
      const to = switchTarget(group.dialing_mode);
      if (!to) return;
      request = api(`${base}/dialing-mode`, { method: "POST", body: { dialing_mode: to } });
      done = `${group.name}: switched to ${to}`;
    } else {
      // A stop ends the group's dialing and returns its records; a misclick should not do that.
      const question = `Stop campaign group “${group.name}”? Its dialing ends until it is started again.`;
      if (action === "stop" && !window.confirm(question)) return;
      request = api(`${base}/${action}`, { method: "POST" });
      done = `${group.name}: ${action} accepted`;
    }
    const message = entry.section.querySelector(".action-message");
    entry.pending = true;
    this.fillActions(entry);
    message.className = "action-message";
    setText(message, "Sending…");
    try {
      const changed = await request;
      // The stream brings the new status for all to see; the buttons follow the answer at
      // once, so a second click does not ask for the same change again.
      if (changed?.status && entry.group) entry.group = { ...entry.group, status: changed.status };
      setText(message, done);
      const shown = message.textContent;
      setTimeout(() => {
        if (message.textContent === shown) setText(message, "");
      }, 6000);
    } catch (error) {
      message.className = "action-message error";
      setText(message, `${action === "switch-mode" ? "Switch" : action} refused — ${error.message}`);
    } finally {
      entry.pending = false;
      if (entry.group) this.fillActions(entry);
    }
  }
}
