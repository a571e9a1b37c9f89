// The campaigns dashboard: one row per contact list under its campaign group.
"use strict";

const KEY = "dialstream.apiKey";
const form = document.getElementById("key-form");
const input = document.getElementById("api-key");
const statusLine = document.getElementById("status");
const table = document.getElementById("hierarchy");
const unassigned = document.getElementById("unassigned");

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function badge(row, status) {
  const td = row.insertCell();
  const span = document.createElement("span");
  span.className = `status status-${status}`;
  span.textContent = status;
  td.appendChild(span);
}

function render(hierarchy) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const template of hierarchy.templates) {
    if (template.campaign_groups.length === 0) {
      const row = body.insertRow();
      cell(row, template.name);
      cell(row, "no campaign group yet", "muted");
      for (let i = 0; i < 4; i++) cell(row, "");
    }
    for (const group of template.campaign_groups) {
      const lists = group.contact_lists.length ? group.contact_lists : [null];
      for (const list of lists) {
        const row = body.insertRow();
        cell(row, template.name);
        cell(row, group.name);
        badge(row, group.status);
        cell(row, group.agent_group);
        cell(row, list ? list.name : "—");
        cell(row, list ? list.channel : "");
      }
    }
  }
  table.hidden = false;
  const items = unassigned.querySelector("ul");
  items.replaceChildren(...hierarchy.unassigned_contact_lists.map((list) => {
    const li = document.createElement("li");
    li.textContent = `${list.name} (${list.channel})`;
    return li;
  }));
  unassigned.hidden = hierarchy.unassigned_contact_lists.length === 0;
  const groups = hierarchy.templates.reduce((n, t) => n + t.campaign_groups.length, 0);
  statusLine.className = "muted";
  statusLine.textContent = `${hierarchy.templates.length} templates, ${groups} campaign groups · updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  const key = sessionStorage.getItem(KEY);
  if (!key) return;
  try {
    const response = await fetch("/api/v1/hierarchy", { headers: { Authorization: `Bearer ${key}` } });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || response.statusText);
    }
    render(await response.json());
  } catch (error) {
    statusLine.className = "error";
    statusLine.textContent = `Cannot load the hierarchy: ${error.message}`;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, input.value.trim());
  input.value = "";
  refresh();
});

refresh();
setInterval(refresh, 5000);
