// The drill-down: a contact list's records a page at a time (#drill), and one record's
// trail, its treatments and attempts (#trail).

import { api, count, dateTime, el, humanize, setText } from "./common.js";

const PAGE = 50;

// The product's record type and status codes (domain/codes.py); the list's page gives
// numbers, a supervisor reads names.
export const RECORD_TYPES = {
  0: "no record type",
  1: "unknown",
  2: "general",
  3: "campaign rescheduled",
  4: "personal rescheduled",
  5: "personal callback",
  6: "campaign callback",
  7: "no call",
};
export const RECORD_STATUSES = {
  0: "no record status",
  1: "ready",
  2: "retrieved",
  3: "updated",
  4: "stale",
  5: "cancelled",
  6: "agent error",
  7: "chain updated",
  8: "missed callback",
  9: "chain ready",
};

const seconds = (ms) => (typeof ms === "number" ? `${(ms / 1000).toFixed(1)} s` : "—");

function table(caption, headers, rows) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c))))),
    ),
  );
}

export class Drill {
  constructor({ drill, trail, zone }) {
    this.drill = drill;
    this.trail = trail;
    this.zone = zone; // () => the dashboard's time zone
    this.listToken = 0;
    this.trailToken = 0;
    this.body = drill.querySelector("tbody");
    this.more = drill.querySelector("#drill-more");
    this.status = drill.querySelector("#drill-status");
    this.more.addEventListener("click", () => this.load());
    drill.querySelector("#drill-close").addEventListener("click", () => this.close({ refocus: true }));
    trail.querySelector("#trail-close").addEventListener("click", () => this.closeTrail({ refocus: true }));
    this.body.addEventListener("click", (event) => {
      const row = event.target.closest("tr.record");
      if (row) this.showTrail(row.dataset.recordId, row);
    });
  }

  // opener: the control to give the focus back to when the records close.
  open(listId, name, opener) {
    this.listToken += 1;
    this.listId = listId;
    this.opener = opener;
    this.next = "";
    this.shown = 0;
    this.body.replaceChildren();
    setText(this.drill.querySelector("#drill-title"), `Records of ${name}`);
    this.drill.hidden = false;
    this.closeTrail();
    this.drill.scrollIntoView({ block: "start" });
    this.drill.querySelector("#drill-title").focus();
    this.load();
  }

  close({ refocus = false } = {}) {
    this.listToken += 1;
    this.drill.hidden = true;
    this.closeTrail();
    if (refocus && this.opener?.isConnected) this.opener.focus();
  }

  closeTrail({ refocus = false } = {}) {
    this.trailToken += 1;
    this.trail.hidden = true;
    const selected = this.body.querySelector("tr.selected");
    this.body.querySelectorAll("tr.selected").forEach((row) => {
      row.classList.remove("selected");
      row.removeAttribute("aria-current");
    });
    if (refocus) selected?.querySelector("button")?.focus();
  }

  async load() {
    const token = this.listToken;
    this.more.disabled = true;
    setText(this.status, "Loading…");
    this.status.classList.remove("error");
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (this.next) query.set("after", this.next);
    try {
      const page = await api(`/api/v1/contact-lists/${encodeURIComponent(this.listId)}/records?${query}`);
      if (token !== this.listToken) return;
      const zone = this.zone();
      for (const record of page.items) this.body.append(this.row(record, zone));
      this.shown += page.items.length;
      this.next = page.next || "";
      this.more.hidden = !page.next;
      const more = page.next ? "; more follow" : "";
      setText(this.status, `${count(this.shown)} records shown${more}. Times in ${zone}. Choose a record for its trail.`);
    } catch (error) {
      if (token !== this.listToken) return;
      setText(this.status, `Cannot load the records: ${error.message}`);
      this.status.classList.add("error");
    } finally {
      this.more.disabled = false;
    }
  }

  row(record, zone) {
    return el(
      "tr",
      { class: "record", "data-record-id": record.record_id },
      el("td", {}, el("button", { type: "button", class: "link", title: "Show this record's trail" }, record.client_id)),
      el("td", { class: "num" }, String(record.chain_n)),
      el("td", {}, record.contact_info),
      el("td", {}, RECORD_TYPES[record.record_type] ?? String(record.record_type)),
      el("td", {}, RECORD_STATUSES[record.record_status] ?? String(record.record_status)),
      el("td", { class: "num" }, String(record.call_result)),
      el("td", { class: "num" }, count(record.attempt)),
      el("td", {}, dateTime(record.dial_sched_time, zone)),
      el("td", {}, dateTime(record.call_time, zone)),
      el("td", {}, record.time_zone),
    );
  }

  async showTrail(recordId, row) {
    const token = ++this.trailToken;
    this.body.querySelectorAll("tr.selected").forEach((other) => {
      other.classList.remove("selected");
      other.removeAttribute("aria-current");
    });
    row?.classList.add("selected");
    row?.setAttribute("aria-current", "true");
    const body = this.trail.querySelector("#trail-body");
    body.replaceChildren(el("p", { class: "muted", role: "status" }, "Loading…"));
    this.trail.hidden = false;
    this.trail.dataset.recordId = recordId;
    try {
      const trail = await api(`/api/v1/records/${encodeURIComponent(recordId)}`);
      if (token !== this.trailToken) return;
      setText(this.trail.querySelector("#trail-title"), `Record ${trail.client_id} #${trail.chain_n}`);
      body.replaceChildren(...this.trailView(trail, this.zone()));
    } catch (error) {
      if (token !== this.trailToken) return;
      body.replaceChildren(el("p", { class: "error", role: "alert" }, `Cannot load the trail: ${error.message}`));
    }
    this.trail.scrollIntoView({ block: "nearest" });
    this.trail.querySelector("#trail-title").focus({ preventScroll: true });
  }

  trailView(trail, zone) {
    const at = (instant) => dateTime(instant, zone);
    const summary = [
      ["Contact", `${trail.contact_info} (${humanize(trail.contact_info_type_name)})`],
      ["List", trail.list_name || trail.list_id],
      ["Record type", humanize(trail.record_type_name)],
      ["Status", humanize(trail.record_status_name)],
      ["Last result", humanize(trail.call_result_name)],
      ["Attempts", count(trail.attempt)],
      ["Next dial", at(trail.dial_sched_time)],
      ["Last call", at(trail.call_time)],
      ["Time zone", `${trail.time_zone} (${humanize(trail.time_zone_rule)})`],
    ];
    const treatments = trail.treatments.map((step) => [
      at(step.at),
      resultName(step),
      humanize(step.action),
      step.sequence ? `${step.sequence}${step.applied > 1 ? ` (×${step.applied})` : ""}` : "—",
      step.disposition_code || "—",
      at(step.dial_sched_time),
    ]);
    const attempts = trail.attempts.map((attempt) => [
      at(attempt.made_at),
      attempt.channel ? `${attempt.channel} · ${humanize(attempt.mode)}` : "not placed",
      answerText(attempt),
      attempt.finished ? resultName(attempt.finished) : "in progress",
      seconds(attempt.finished?.ring_ms ?? attempt.answered?.ring_ms),
      seconds(attempt.finished?.talk_ms),
      attempt.record_events.map((step) => `${at(step.at)} ${queueStep(step)}`).join("; ") || "—",
    ]);
    const terms = summary.map(([term, value]) => el("div", {}, el("dt", {}, term), el("dd", {}, value)));
    const history = trail.history.map((step) => el("li", {}, `${at(step.at)} ${historyStep(step)}`));
    return [
      el("dl", { class: "summary" }, ...terms),
      treatments.length
        ? table("Treatments", ["When", "Call result", "Action", "Step", "Disposition", "Scheduled dial"], treatments)
        : el("p", { class: "muted" }, "No treatment applied yet."),
      attempts.length
        ? table("Attempts", ["Made", "Channel · mode", "Answer", "Result", "Ring", "Talk", "Dialing queue"], attempts)
        : el("p", { class: "muted" }, "No attempt yet."),
      history.length ? el("div", {}, el("h3", {}, "Other changes"), el("ul", { class: "history" }, ...history)) : null,
    ].filter(Boolean);
  }
}

function resultName(step) {
  return humanize(step.call_result_name || String(step.call_result));
}

function answerText(attempt) {
  if (!attempt.answered) return attempt.made_at ? "no answer" : "—";
  const parts = [`answered by ${attempt.answered.answered_by}`];
  if (attempt.connected) parts.push(`agent after ${seconds(attempt.connected.wait_ms)}`);
  if (attempt.abandoned) parts.push(`abandoned after ${seconds(attempt.abandoned.wait_ms)}`);
  return parts.join(", ");
}

function queueStep(step) {
  switch (step.event) {
    case "record.retrieved":
      return `drawn by ${step.retrieved_by}`;
    case "record.returned":
      return `returned (${humanize(step.reason)})`;
    case "record.updated":
      return `updated: ${humanize(step.call_result_name)}, ${humanize(step.record_status_name)}`;
    case "record.treated":
      return `treated: ${humanize(step.action || "no step")} (${step.reason})`;
    default:
      return humanize(step.event);
  }
}

function historyStep(step) {
  switch (step.event) {
    case "record_chain.imported":
      return `imported (line ${step.line})`;
    case "record_chain.replaced":
      return `replaced by an import (line ${step.line})`;
    case "record_chain.deleted":
      return `deleted: ${humanize(step.reason)}${step.detail ? ` (${step.detail})` : ""}`;
    case "record_chain.suppressed":
      return `suppressed by ${count(step.matches.length)} suppression entr${step.matches.length === 1 ? "y" : "ies"}`;
    case "record_chain.restored":
      return `restored as ${humanize(step.record_type_name)}`;
    case "record.treated":
      return `treatment of record #${step.treated_chain_n}: ${humanize(step.action || "no step")} (${step.reason})`;
    default:
      return humanize(step.event);
  }
}
