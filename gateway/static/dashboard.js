// The campaigns dashboard: the key, the live stream of figures, the account's total line;
// groups.js draws the groups, series.js their charts, drill.js the records.

import { api, apiKey, count, dateTime, el, humanize, keepKey, percent, setText } from "./common.js";
import { Drill } from "./drill.js";
import { Groups, fillLine, headerRow } from "./groups.js";
import { SeriesCharts } from "./series.js";
import { LiveStream } from "./stream.js";

const ACTING_ROLES = new Set(["supervisor", "admin"]);

const byId = (id) => document.getElementById(id);
const form = byId("key-form");
const input = byId("api-key");
const liveStatus = byId("live-status");
const statusLine = byId("status");
const roleLine = byId("role");
const board = byId("board");
const accountTable = byId("account-total");
const noGroups = byId("no-groups");

let zone = "UTC";

const charts = new SeriesCharts(() => zone);
const drill = new Drill({ drill: byId("drill"), trail: byId("trail"), zone: () => zone });
const groups = new Groups(byId("groups"), { charts, onOpenList: (id, name, opener) => drill.open(id, name, opener) });
const stream = new LiveStream("/api/v1/dashboard/stream", {
  onMessage(message) {
    if (message.event !== "dashboard") return;
    try {
      render(JSON.parse(message.data));
    } catch (error) {
      say(`A message could not be shown: ${error.message}`, true);
    }
  },
  onState(state) {
    setText(liveStatus, state);
    liveStatus.className = `live-status ${state}`;
    board.classList.toggle("stale", state !== "live");
    if (state === "live") say("");
  },
  onProblem(error) {
    say(`The live figures stopped (${error.message}); reconnecting…`, true);
    // The stream refused or failed but the server answers: show its figures meanwhile.
    if (error.status && error.status !== 401 && error.status !== 403) snapshot();
  },
});

accountTable.tHead.append(headerRow(""));
const accountLine = accountTable.tBodies[0].appendChild(
  el("tr", { class: "account-line" }, el("th", { scope: "row" }, "All lists")),
);

function say(text, isError = false) {
  setText(statusLine, text);
  statusLine.className = isError ? "error" : "muted";
}

function render(view) {
  zone = view.time_zone || "UTC";
  // No caller in the figures (an older server): read only, the safe side.
  const role = view.caller?.role;
  const canAct = ACTING_ROLES.has(role);
  setText(roleLine, role ? `${role}${canAct ? "" : " · read only"}` : "read only");
  const account = view.account || {};
  fillLine(accountLine, {
    records: {
      total: account.records_total ?? 0,
      in_progress: account.records_retrieved ?? 0,
      completed: account.records_updated ?? 0,
      suppressed: account.records_no_call ?? 0,
    },
    today: account,
    denied_today: account.denied_today || {},
  });
  groups.update(view.campaign_groups || [], canAct);
  noGroups.hidden = (view.campaign_groups || []).length > 0;
  setText(byId("account-figures"), accountFigures(account));
  setText(byId("as-of"), `Figures as of ${dateTime(view.at, zone)} (${zone}); today since ${dateTime(view.today_from, zone)}.`);
  board.hidden = false;
}

async function snapshot() {
  try {
    render(await api("/api/v1/dashboard"));
  } catch (error) {
    say(`Cannot load the dashboard: ${error.message}`, true);
  }
}

function begin() {
  groups.clear();
  charts.forgetAll();
  drill.close();
  board.hidden = true;
  if (!apiKey()) {
    stream.stop();
    liveStatus.hidden = true;
    say("Enter an API key to see the campaigns.");
    return;
  }
  liveStatus.hidden = false;
  say("Connecting…");
  stream.start();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  keepKey(input.value.trim());
  input.value = "";
  begin();
});

// Escape closes the innermost open panel: the trail, then the list's records.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (!byId("trail").hidden) drill.closeTrail({ refocus: true });
  else if (!byId("drill").hidden) drill.close({ refocus: true });
});

byId("forget-key").addEventListener("click", () => {
  keepKey("");
  begin();
  input.focus();
});

begin();

// The account's agents (each agent group once), occupancy and abandon windows, in one line.
function accountFigures(account) {
  const agents = Object.entries(account.agents || {})
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${count(n)} ${humanize(state)}`);
  const abandon = account.abandon || {};
  return [
    `Agents: ${agents.length ? agents.join(", ") : "none logged in"}`,
    `occupancy today ${percent(100 * (account.occupancy_today ?? 0))}`,
    `abandon rate ${percent(abandon.last_24h?.rate)} over 24 h, ${percent(abandon.last_30d?.rate)} over 30 days`,
  ].join(" · ");
}
