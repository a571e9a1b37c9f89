// A campaign group's charts: the series endpoint, fetched when the page loads and again when
// the group's figures change (at most every 15 s), then drawn by charts.js.

import { api, clock, count, el, humanize, percent, setText, shortNumber } from "./common.js";
import { barChart, chartSvg, lineChart, stackedChart } from "./charts.js";

const HOURS = 8;
const MIN_GAP_MS = 15000;
// The time axis moves on while nothing happens; a quiet group's charts still follow it.
const SLIDE_MS = 60000;

// Bottom of the stack first: the states a supervisor watches most sit on the baseline.
export const AGENT_STATES = ["on_call", "wrap_up", "reserved", "ready", "not_ready", "logged_in"];

function legend(entries) {
  return el(
    "ul",
    { class: "legend" },
    ...entries.map(([key, label, kind = "swatch"]) =>
      el("li", {}, el("span", { class: `${kind} s-${key}`, "aria-hidden": "true" }), label),
    ),
  );
}

function figure(chart, title, entries) {
  return el(
    "figure",
    { class: "chart" },
    el("figcaption", {}, title),
    chartSvg(chart),
    legend(entries),
  );
}

// The charts' block of a group section: three figures, each an svg[data-chart].
export function chartsBlock() {
  const block = el(
    "div",
    { class: "charts" },
    figure("abandon-rate", `Abandon rate per 15 min, last ${HOURS} h`, [
      ["abandon", "abandon rate", "swatch line"],
      ["target", "target", "swatch dashed"],
    ]),
    figure("attempts", "Attempts and connects per 15 min", [
      ["attempts", "attempts"],
      ["connects", "connects"],
    ]),
    figure("agents", "Agents by state (average per 15 min)", AGENT_STATES.map((state) => [state, humanize(state)])),
    el("p", { class: "chart-status muted", role: "status" }),
  );
  return block;
}

export class SeriesCharts {
  constructor(zone) {
    this.zone = zone; // () => the dashboard's time zone
    this.groups = new Map();
    this.slider = setInterval(() => this.groups.forEach((entry) => this.request(entry)), SLIDE_MS);
  }

  // Called with each dashboard message: a group whose figures differ gets new charts.
  watch(groupId, block, signature) {
    let entry = this.groups.get(groupId);
    if (!entry || entry.block !== block) {
      entry = { groupId, block, signature: null, last: 0, timer: null, busy: false, again: false };
      this.groups.set(groupId, entry);
    }
    if (entry.signature === signature) return;
    entry.signature = signature;
    this.request(entry);
  }

  forget(groupId) {
    const entry = this.groups.get(groupId);
    if (entry) clearTimeout(entry.timer);
    this.groups.delete(groupId);
  }

  forgetAll() {
    [...this.groups.keys()].forEach((groupId) => this.forget(groupId));
  }

  request(entry) {
    if (entry.busy) {
      entry.again = true;
      return;
    }
    const wait = entry.last + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      entry.timer ??= setTimeout(() => {
        entry.timer = null;
        this.request(entry);
      }, wait);
      return;
    }
    this.fetch(entry);
  }

  async fetch(entry) {
    entry.busy = true;
    entry.last = Date.now();
    const status = entry.block.querySelector(".chart-status");
    try {
      const path = `/api/v1/dashboard/campaign-groups/${encodeURIComponent(entry.groupId)}/series?hours=${HOURS}`;
      const series = await api(path);
      if (this.groups.get(entry.groupId) !== entry) return;
      this.draw(entry.block, series);
      setText(status, `Charts as of ${clock(Date.now(), this.zone())} (${this.zone()})`);
      status.classList.remove("error");
    } catch (error) {
      setText(status, `Charts unavailable: ${error.message}`);
      status.classList.add("error");
    } finally {
      entry.busy = false;
      if (entry.again && this.groups.get(entry.groupId) === entry) {
        entry.again = false;
        this.request(entry);
      }
    }
  }

  draw(block, series) {
    const zone = this.zone();
    const chart = (name) => block.querySelector(`svg[data-chart="${name}"]`);
    const points = series.points || [];
    const target = series.abandon_target_percent;
    lineChart(chart("abandon-rate"), {
      name: "abandon",
      slots: points.map((p) => ({
        start: p.start,
        value: p.live > 0 ? p.abandon_rate : null,
        note: `${percent(p.abandon_rate)} abandoned (${count(p.abandons)} of ${count(p.live)} live answers)`,
      })),
      target: typeof target === "number" ? target : null,
      unit: "%",
      zone,
      label: `Abandon rate per ${series.interval_minutes} minutes` + (typeof target === "number" ? `, target ${shortNumber(target)} %` : ""),
    });
    barChart(chart("attempts"), {
      slots: points.map((p) => ({
        start: p.start,
        values: { attempts: p.attempts, connects: p.connects },
        note: `${count(p.attempts)} attempts, ${count(p.connects)} connects`,
      })),
      series: [{ key: "attempts" }, { key: "connects" }],
      unit: "",
      zone,
      label: `Attempts and connects per ${series.interval_minutes} minutes`,
    });
    const interval = (series.interval_minutes || 15) * 60;
    stackedChart(chart("agents"), {
      slots: (series.agent_states || []).map((slot) => {
        // The last interval is still running: average over the part of it that has passed.
        const elapsed = Math.min(interval, Math.max(1, (Date.now() - new Date(slot.start).getTime()) / 1000));
        const values = Object.fromEntries(AGENT_STATES.map((state) => [state, (slot.seconds?.[state] || 0) / elapsed]));
        const note = AGENT_STATES.filter((state) => values[state] > 0)
          .map((state) => `${humanize(state)} ${shortNumber(values[state])}`)
          .join(", ");
        return { start: slot.start, values, note: note ? `${note} agents on average` : "no agent logged in" };
      }),
      series: AGENT_STATES.map((key) => ({ key })),
      unit: "",
      zone,
      label: "Agents by state, average per interval",
    });
  }
}
