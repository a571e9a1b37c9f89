// Small inline-SVG charts over time slots: a line with a dashed target, side-by-side bars,
// stacked bars. Geometry is in viewBox units; CSS sizes the svg and colours the series.

import { clock, shortNumber } from "./common.js";

const SVG_NS = "http://www.w3.org/2000/svg"; // the SVG namespace name, never fetched
const WIDTH = 480;
const HEIGHT = 210;
const MARGIN = { top: 12, right: 14, bottom: 26, left: 46 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const MIN_LABEL_GAP = 58; // viewBox units between two time labels

function svgEl(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// An empty chart, drawn into later: <svg data-chart="name">.
export function chartSvg(name) {
  return svgEl("svg", { class: "chart-svg", "data-chart": name, viewBox: `0 0 ${WIDTH} ${HEIGHT}` });
}

function tooltip(node, text) {
  node.append(svgEl("title", {}, text));
  return node;
}

// A round top for the value axis and its step: 0, step, 2·step, … ≥ max, about four ticks;
// whole steps for counts.
export function niceScale(max, integers = false) {
  const top = max > 0 ? max : 1;
  const rough = top / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const factors = integers ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  let step = factors.map((m) => m * magnitude).find((s) => s >= rough);
  if (integers) step = Math.max(1, Math.round(step));
  return { top: Math.ceil(top / step - 1e-9) * step, step };
}

// An axis label with as many decimals as the step needs, so that no two ticks read alike
// (a step of 0.005 labels 0.005, 0.010, …, not 0.01, 0.01).
function tick(value, step) {
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-9) decimals += 1;
  return decimals ? value.toFixed(decimals) : shortNumber(value);
}

function y(value, top) {
  return MARGIN.top + PLOT_H - (value / top) * PLOT_H;
}

function slotX(index, count) {
  return MARGIN.left + (index * PLOT_W) / count;
}

// Clears the svg and draws the value axis, grid and time labels; returns the slot width.
function frame(svg, { slots, top, step, unit, zone, label }) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.append(svgEl("title", {}, label));
  const axis = svgEl("g", { class: "axis" });
  for (let value = 0; value <= top + step / 2; value += step) {
    const at = y(value, top);
    axis.append(svgEl("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: at, y2: at }));
    axis.append(svgEl("text", { x: MARGIN.left - 6, y: at + 4, "text-anchor": "end" }, `${tick(value, step)}${unit}`));
  }
  const count = Math.max(slots.length, 1);
  const every = Math.max(1, Math.ceil(MIN_LABEL_GAP / (PLOT_W / count)));
  slots.forEach((slot, index) => {
    if (index % every !== 0) return;
    const at = slotX(index, count);
    axis.append(svgEl("line", { class: "tick", x1: at, x2: at, y1: MARGIN.top + PLOT_H, y2: MARGIN.top + PLOT_H + 4 }));
    axis.append(svgEl("text", { x: at, y: HEIGHT - 8, "text-anchor": "middle" }, clock(slot.start, zone)));
  });
  axis.append(
    svgEl("line", { class: "baseline", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0, top), y2: y(0, top) }),
  );
  svg.append(axis);
  if (!slots.length) {
    svg.append(svgEl("text", { class: "empty", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "no data yet"));
  }
  return PLOT_W / count;
}

// slots: [{start, value, note}]; target: a value drawn dashed (or null). A slot whose value is
// null has none (an abandon rate without live answers): the line breaks there.
export function lineChart(svg, { slots, target, unit, zone, label, name }) {
  const highest = Math.max(0, ...slots.map((slot) => slot.value ?? 0), target ? target * 1.25 : 0);
  const { top, step } = niceScale(highest);
  const width = frame(svg, { slots, top, step, unit, zone, label });
  if (typeof target === "number") {
    const at = y(target, top);
    svg.append(
      tooltip(
        svgEl("line", { class: "target", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: at, y2: at }),
        `target ${shortNumber(target)}${unit}`,
      ),
    );
    svg.append(
      svgEl("text", { class: "target-label", x: WIDTH - MARGIN.right, y: at - 4, "text-anchor": "end" },
        `target ${shortNumber(target)}${unit}`),
    );
  }
  const points = slots.map((slot, index) =>
    slot.value === null ? null : [slotX(index, slots.length) + width / 2, y(slot.value, top)],
  );
  const d = points
    .map((point, index) => {
      if (point === null) return "";
      const move = index === 0 || points[index - 1] === null;
      return `${move ? "M" : "L"}${point[0].toFixed(1)},${point[1].toFixed(1)}`;
    })
    .filter(Boolean)
    .join(" ");
  svg.append(svgEl("path", { class: `series s-${name}`, d }));
  const dots = svgEl("g", { class: `dots s-${name}` });
  slots.forEach((slot, index) => {
    if (points[index] === null) return;
    const [px, py] = points[index];
    const dot = svgEl("circle", { cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5 });
    dots.append(tooltip(dot, `${clock(slot.start, zone)}: ${slot.note}`));
  });
  svg.append(dots);
}

// slots: [{start, values: {key: n}, note}]; series: [{key, label}] drawn side by side.
export function barChart(svg, { slots, series, unit, zone, label }) {
  const highest = Math.max(0, ...slots.flatMap((slot) => series.map((s) => slot.values[s.key] || 0)));
  const { top, step } = niceScale(highest, true);
  const width = frame(svg, { slots, top, step, unit, zone, label });
  const bar = (width * 0.8) / series.length;
  const bars = svgEl("g", { class: "bars" });
  slots.forEach((slot, index) => {
    series.forEach((s, n) => {
      const value = slot.values[s.key] || 0;
      const x = slotX(index, slots.length) + width * 0.1 + n * bar;
      const rect = svgEl("rect", {
        class: `bar s-${s.key}`,
        x: x.toFixed(1),
        y: y(value, top).toFixed(1),
        width: Math.max(bar - 0.5, 0.5).toFixed(1),
        height: (y(0, top) - y(value, top)).toFixed(1),
      });
      bars.append(tooltip(rect, `${clock(slot.start, zone)}: ${slot.note}`));
    });
  });
  svg.append(bars);
}

// slots: [{start, values: {key: n}, note}]; series: [{key, label}] stacked bottom up.
export function stackedChart(svg, { slots, series, unit, zone, label }) {
  const totals = slots.map((slot) => series.reduce((sum, s) => sum + (slot.values[s.key] || 0), 0));
  const { top, step } = niceScale(Math.max(0, ...totals));
  const width = frame(svg, { slots, top, step, unit, zone, label });
  const bars = svgEl("g", { class: "bars" });
  slots.forEach((slot, index) => {
    const column = tooltip(svgEl("g", { class: "stack" }), `${clock(slot.start, zone)}: ${slot.note}`);
    let base = 0;
    for (const s of series) {
      const value = slot.values[s.key] || 0;
      if (value <= 0) continue;
      column.append(
        svgEl("rect", {
          class: `bar s-${s.key}`,
          x: (slotX(index, slots.length) + width * 0.1).toFixed(1),
          y: y(base + value, top).toFixed(1),
          width: Math.max(width * 0.8, 0.5).toFixed(1),
          height: (y(base, top) - y(base + value, top)).toFixed(1),
        }),
      );
      base += value;
    }
    bars.append(column);
  });
  svg.append(bars);
}
