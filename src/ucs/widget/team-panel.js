// The supervisor's panel (CONTRACT §11): a tab beside the agent's own desk, shown to
// supervisors only, with their queues (callers waiting, longest wait, today's answered,
// abandoned and service level) and their agents (status with its reason and time in it, phone,
// the call in progress with its party and duration), live from the controller's team view
// (team(), amended by team.changed). Agents sort by name, status or time in it; a queue
// filter narrows both tables to one queue and its members, a status filter the agents. A table
// wider than its card (the queues' at 360 px) scrolls inside it, with a fading edge and a line
// saying so while there is more to see. Times count up between pushes on the element's
// one-second tick.

export const TEAM_STYLE = `
:host { --shade: rgba(16, 24, 40, .25); } :host([theme="dark"]) { --shade: rgba(232, 236, 244, .3); }
.tabs { display: flex; gap: 6px; margin-bottom: 10px; }
.tabs[hidden] { display: none; }
.tabs button[aria-selected="true"] { background: var(--accent); border-color: var(--accent); color: var(--card); font-weight: 600; }
.team table { width: 100%; border-collapse: collapse; font-size: 13px; }
.team th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; padding: 4px 4px 4px 0; }
.team td { padding: 5px 4px 5px 0; border-top: 1px solid var(--line); vertical-align: top; }
.team th.n { text-align: right; padding-left: 8px; }
.team .n + :not(.n) { padding-left: 10px; }
.team td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.team .sl-bad { color: var(--bad); font-weight: 700; } .team .sl-ok { color: var(--ok); font-weight: 700; }
.team .agent-call { color: var(--muted); font-size: 12px; }
.team .filters { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 6px; }
.team .filters label { flex: 1 1 120px; margin: 0; min-width: 0; }
.team .filters select { width: 100%; }
.team .scroller { overflow-x: auto; outline-offset: 2px;
  background: linear-gradient(to right, var(--card) 50%, transparent) left / 24px 100% no-repeat local,
    linear-gradient(to left, var(--card) 50%, transparent) right / 24px 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, var(--shade), transparent) left / 12px 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, var(--shade), transparent) right / 12px 100% no-repeat scroll; }
.team .scroller table { min-width: 100%; }
.team [data-team-scroll="queues"] th, .team [data-team-scroll="queues"] td { white-space: nowrap; }
.team .more { display: none; font-size: 12px; color: var(--muted); margin: 4px 0 0; }
.team .scroller[data-more] + .more { display: block; }
.team .monitor { display: flex; gap: 4px; margin-top: 4px; flex-wrap: wrap; }
.team .monitor button { padding: 2px 8px; font-size: 12px; }
.team .monitor button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: var(--card); }
.monitoring { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.monitoring span { flex: 1; }
.team .pill { border-radius: 8px; } /* "Not ready · Lunch" on two lines: a rounded box, not a blob */
`;

const ORDER = { READY: 0, ACW: 1, AUX: 2, OFFLINE: 3 };

function slClass(sl) {
  if (sl === null || sl === undefined) return "";
  return sl < 80 ? "sl-bad" : "sl-ok";
}

const COLLATORS = new Map();
function collator(lang) {
  if (!COLLATORS.has(lang)) COLLATORS.set(lang, new Intl.Collator(lang, { numeric: true, sensitivity: "base" }));
  return COLLATORS.get(lang);
}

/** The panel's HTML for ``team`` (null: not loaded yet); ``tr`` translates, ``esc`` escapes,
 * ``clock`` formats seconds, ``state`` holds the chosen sort and filter, ``lang`` orders names. */
export function teamHtml(team, { tr, esc, clock, state, now, monitoring = null, lang = "en" }) {
  if (!team) return `<div class="card team muted">${esc(tr("loading"))}</div>`;
  // The queue filter: a queue that left the view (the directory changed) no longer narrows it.
  const queue = team.queues.some((q) => String(q.queue_id) === state.queue) ? Number(state.queue) : null;
  // A campaign (type 0, outgoing) has nobody waiting and no service level: its calls in
  // progress and today's dialled under its name, and the calls answered by the called party.
  const campaign = (q) => `<tr data-team-queue="${q.queue_id}" class="campaign"><td>${esc(q.name)}
    <div class="muted">${esc(tr("campaignNow"))} ${q.active} · ${esc(tr("campaignDialled"))} ${q.dialled}</div></td>
    <td class="n">–</td><td class="n">–</td><td class="n">${q.answered}</td><td class="n">–</td><td class="n">–</td></tr>`;
  const queues = team.queues.filter((q) => queue === null || q.queue_id === queue).map((q) => (q.type === 0 ? campaign(q) : `<tr data-team-queue="${q.queue_id}"><td>${esc(q.name)}</td>
    <td class="n">${q.waiting}</td><td class="n" data-wait="${q.queue_id}">${clock(q.longest_wait)}</td>
    <td class="n">${q.answered}</td><td class="n">${q.abandoned}</td>
    <td class="n ${slClass(q.service_level)}">${q.service_level === null ? "–" : `${Math.round(q.service_level)} %`}</td></tr>`)).join("");
  const shown = team.agents.filter((a) => (!state.status || a.status === state.status)
    && (queue === null || (a.queues || []).includes(queue)));
  // Names in the order a person expects: "Agent 5" before "Agent 10", "Černý" after "Cyril".
  const names = collator(lang);
  const byName = (x, y) => names.compare(x.displayname, y.displayname);
  const order = {
    name: byName,
    status: (x, y) => (ORDER[x.status] ?? 9) - (ORDER[y.status] ?? 9) || byName(x, y),
    time: (x, y) => x.status_since - y.status_since || byName(x, y),
  }[state.sort] || byName;
  shown.sort(order);
  const agents = shown.map((a) => {
    const call = a.call;
    const party = call
      ? (call.direction === "INCOMING" ? call.name || call.caller_name || call.caller_number : call.called_name || call.connected_number || call.called_number)
      : "";
    // Listen, whisper, barge (CONTRACT §11): on an agent's connected call, the mode in use pressed.
    const watching = monitoring && monitoring.userId === a.id ? monitoring.mode : null;
    const modes = call && call.state === 3
      ? `<div class="monitor">${["listen", "whisper", "barge"].map((m) => `<button type="button" data-monitor="${m}" data-user="${a.id}" aria-pressed="${watching === m}">${esc(tr(m))}</button>`).join("")}</div>`
      : "";
    const callCell = call
      ? `<div class="agent-call">${esc(party || "")} · <span data-team-call="${esc(call.uniqueid)}" data-from="${call.connected || call.created}">${clock(now - (call.connected || call.created))}</span></div>${modes}`
      : "";
    return `<tr data-team-agent="${a.id}"><td><b>${esc(a.displayname)}</b>${callCell}</td>
      <td><span class="pill s-${esc(a.status)}">${esc(tr(a.status))}${a.reason ? ` · ${esc(a.reason)}` : ""}</span></td>
      <td class="n" data-since-agent="${a.status_since}">${clock(now - a.status_since)}</td>
      <td>${esc(a.identifier || "–")}</td></tr>`;
  }).join("");
  const option = (value, label, chosen) => `<option value="${value}"${chosen === value ? " selected" : ""}>${esc(label)}</option>`;
  const who = monitoring && team.agents.find((a) => a.id === monitoring.userId);
  const bar = monitoring
    ? `<div class="card monitoring" data-monitoring="${esc(monitoring.mode)}"><span>${esc(tr({ barge: "bargingIn", whisper: "whisperingTo" }[monitoring.mode] || "listeningTo").replace("{name}", who ? who.displayname : String(monitoring.userId)))}</span>
      <button type="button" class="bad" data-monitor-end>${esc(tr("stopMonitoring"))}</button></div>`
    : "";
  const queueOptions = team.queues.map((q) => option(String(q.queue_id), q.name, state.queue)).join("");
  return `${bar}<div class="card team" data-team>
    <h2 id="team-queues-title">${esc(tr("teamQueues"))}</h2>
    <div class="filters"><label>${esc(tr("queue"))}<select data-team-queue-filter aria-label="${esc(tr("queue"))}">
      ${option("", tr("allQueues"), queue === null ? "" : state.queue)}${queueOptions}</select></label></div>
    <div class="scroller" data-team-scroll="queues" tabindex="0" role="region" aria-labelledby="team-queues-title">
    <table><thead><tr><th>${esc(tr("queue"))}</th><th class="n">${esc(tr("waitingShort"))}</th><th class="n">${esc(tr("longestShort"))}</th>
      <th class="n">${esc(tr("answered"))}</th><th class="n">${esc(tr("abandonedShort"))}</th><th class="n">${esc(tr("serviceLevel"))}</th></tr></thead>
      <tbody>${queues}</tbody></table></div><p class="more" aria-hidden="true">→ ${esc(tr("moreColumns"))}</p></div>
    <div class="card team"><h2 id="team-agents-title">${esc(tr("teamAgents"))}</h2>
    <div class="filters"><label>${esc(tr("sortBy"))}<select data-team-sort aria-label="${esc(tr("sortBy"))}">
      ${option("name", tr("byName"), state.sort)}${option("status", tr("status"), state.sort)}${option("time", tr("byTime"), state.sort)}</select></label>
      <label>${esc(tr("status"))}<select data-team-status aria-label="${esc(tr("status"))}">${option("", tr("everyone"), state.status)}
      ${["READY", "AUX", "ACW", "OFFLINE"].map((s) => option(s, tr(s), state.status)).join("")}</select></label></div>
    <div class="scroller" data-team-scroll="agents" tabindex="0" role="region" aria-labelledby="team-agents-title">
    <table><thead><tr><th>${esc(tr("agent"))}</th><th>${esc(tr("status"))}</th><th class="n">${esc(tr("inStatus"))}</th><th>${esc(tr("phone"))}</th></tr></thead>
      <tbody>${agents}</tbody></table></div><p class="more" aria-hidden="true">→ ${esc(tr("moreColumns"))}</p></div>`;
}

/** Mark each table that has more to its right than its card shows (``data-more``: the line
 * under it says so), now and whenever it scrolls. */
export function watchScrollers(root) {
  for (const el of root.querySelectorAll(".scroller")) {
    const mark = () => el.toggleAttribute("data-more", el.scrollLeft + el.clientWidth < el.scrollWidth - 1);
    el.onscroll = mark;
    mark();
  }
}

/** Count the panel's times up between pushes (the element's tick). */
export function tickTeam(root, clock, now, waits) {
  watchScrollers(root); // the component may have been resized
  for (const el of root.querySelectorAll("[data-since-agent]")) {
    el.textContent = clock(now - Number(el.dataset.sinceAgent));
  }
  for (const el of root.querySelectorAll("[data-team-call]")) {
    el.textContent = clock(now - Number(el.dataset.from));
  }
  for (const el of root.querySelectorAll("[data-wait]")) {
    const w = waits.get(el.dataset.wait);
    if (w) el.textContent = clock(w.waiting ? w.longest + (now - w.at) : 0);
  }
}
