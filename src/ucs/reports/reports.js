// The reports page (/reports/): GET /api/reports/queues and /api/reports/agents for a period,
// as charts a supervisor reads at a glance (service level and abandoned calls per hour or day
// and queue, average handle time per agent), the tables under them, and their CSV. Signed in
// with a supervisor's login (their own queues and team), a superuser's or the admin token.
// The charts are uPlot (vendor/, MIT), loaded by index.html as window.uPlot.

import { REPORTS_TEXT, fill, pageLanguage, rememberLanguage } from "../operator/i18n.js";
import { Api, ApiError } from "../admin/api.js";

const params = new URLSearchParams(window.location.search);
const root = document.getElementById("reports");
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// Ten colours told apart in both themes (and by most colour-blind readers: Okabe-Ito first).
const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#8c564b", "#7f7f7f", "#bcbd22", "#9467bd"];
const QUEUE_COLUMNS = ["name", "start", "offered", "answered", "abandoned", "answered_within_target", "service_level", "asa", "aht", "max_wait"];
const AGENT_COLUMNS = ["displayname", "answered", "missed", "talktime", "acwtime", "auxtime", "readytime", "loggedtime", "occupancy"];

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  return `${h}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

class Reports {
  constructor() {
    this.api = new Api();
    if (params.get("token")) this.api.signedIn(params.get("token"));
    this.lang = pageLanguage("ucsReportsLang");
    if (this.lang !== "cs") this.lang = "en";
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    this.theme = params.get("theme") || localStorage.getItem("ucsReportsTheme") || (dark ? "dark" : "light");
    this.period = { from: params.get("from") || today(), to: params.get("to") || today(), interval: params.get("interval") === "day" ? "day" : "hour" };
    this.charts = [];
    this.data = null;
    this.who = "";
    window.addEventListener("resize", () => this.resize());
  }

  tr(key, values = {}) {
    return fill(REPORTS_TEXT[this.lang][key] || REPORTS_TEXT.en[key] || key, values);
  }

  applyLook() {
    document.documentElement.lang = this.lang;
    document.documentElement.dataset.theme = this.theme;
    document.title = `ucs: ${this.tr("title")}`;
  }

  async start() {
    this.applyLook();
    if (!this.api.token) return this.login();
    try {
      const me = await this.api.get("/api/admin/me");
      this.who = me.actor;
      this.role = me.role; // "admin" (the token, a superuser) may delete recordings
    } catch (err) {
      this.api.signedOut();
      return this.login(err instanceof ApiError && err.status === 401 ? this.tr("refused") : this.tr("unreachable"));
    }
    this.render();
    return this.load();
  }

  login(error = "") {
    this.applyLook();
    this.destroyCharts();
    root.innerHTML = `<form class="login"><h1>${esc(this.tr("title"))}</h1>
      <label for="u">${esc(this.tr("username"))}</label><input id="u" name="username" autocomplete="username">
      <label for="p">${esc(this.tr("password"))}</label><input id="p" name="password" type="password" autocomplete="current-password">
      <label for="t">${esc(this.tr("token"))}</label><input id="t" name="token" type="password">
      <button type="submit" class="primary">${esc(this.tr("signIn"))}</button>
      <button type="button" data-lang>${esc(this.tr("language"))}</button>
      <div class="error" role="alert">${esc(error)}</div></form>`;
    const form = root.querySelector("form");
    const button = form.querySelector('button[type="submit"]');
    form.querySelector("[data-lang]").onclick = () => this.switchLanguage(() => this.login(error));
    form.onsubmit = async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      button.disabled = true;
      try {
        if (values.get("token")) this.api.signedIn(String(values.get("token")).trim());
        else if (!values.get("username") || !values.get("password")) {
          form.querySelector(".error").textContent = this.tr("fillIn");
          button.disabled = false;
          return;
        } else {
          const session = await this.api.post("/api/admin/login", { username: values.get("username"), password: values.get("password") });
          this.api.signedIn(session.token);
        }
        await this.start();
      } catch (err) {
        this.api.signedOut();
        form.querySelector(".error").textContent = err.status === 401 ? this.tr("refused") : err.message || this.tr("unreachable");
        form.querySelector("#p").value = "";
        button.disabled = false;
      }
    };
    root.querySelector("input").focus();
    return undefined;
  }

  switchLanguage(then) {
    this.lang = this.lang === "cs" ? "en" : "cs";
    rememberLanguage("ucsReportsLang", this.lang);
    this.applyLook();
    then();
  }

  render() {
    this.destroyCharts();
    const p = this.period;
    root.innerHTML = `<header><h1>${esc(this.tr("title"))}</h1>
        <span class="who">${esc(this.tr("signedInAs", { who: this.who }))}</span>
        <span class="actions"><button type="button" data-lang>${esc(this.tr("language"))}</button>
        <button type="button" data-theme>${esc(this.tr(this.theme === "dark" ? "themeLight" : "theme"))}</button>
        <button type="button" data-logout>${esc(this.tr("logout"))}</button></span></header>
      <form class="period">
        <label>${esc(this.tr("from"))}<input type="date" name="from" value="${esc(p.from)}" required></label>
        <label>${esc(this.tr("to"))}<input type="date" name="to" value="${esc(p.to)}" required></label>
        <label>${esc(this.tr("interval"))}<select name="interval">
          <option value="hour"${p.interval === "hour" ? " selected" : ""}>${esc(this.tr("hour"))}</option>
          <option value="day"${p.interval === "day" ? " selected" : ""}>${esc(this.tr("day"))}</option></select></label>
        <button type="submit" class="primary">${esc(this.tr("show"))}</button>
      </form>
      <div class="error" role="alert"></div>
      <div class="charts">
        <section class="card"><h2>${esc(this.tr("serviceLevel"))}</h2><div class="chart" id="sl-chart"></div></section>
        <section class="card"><h2>${esc(this.tr("abandonedChart"))}</h2><div class="chart" id="abandoned-chart"></div></section>
        <section class="card wide"><h2>${esc(this.tr("handleChart"))}</h2><div class="chart" id="aht-chart"></div></section>
      </div>
      <div class="tables">
        <section class="card"><div class="table-head"><h2>${esc(this.tr("queuesTable"))}</h2>
          <button type="button" data-csv="queues">${esc(this.tr("csvQueues"))}</button></div><div class="scroll" id="queues"></div></section>
        <section class="card"><div class="table-head"><h2>${esc(this.tr("agentsTable"))}</h2>
          <button type="button" data-csv="agents">${esc(this.tr("csvAgents"))}</button></div><div class="scroll" id="agents"></div></section>
        <section class="card"><h2>${esc(this.tr("recordings"))}</h2><div class="scroll" id="recordings"></div>
          <p class="playing" data-playing aria-live="polite"></p><audio controls hidden data-player></audio></section>
      </div>`;
    root.querySelector("[data-lang]").onclick = () => this.switchLanguage(() => { this.render(); this.draw(); });
    root.querySelector("[data-theme]").onclick = () => {
      this.theme = this.theme === "dark" ? "light" : "dark";
      localStorage.setItem("ucsReportsTheme", this.theme);
      this.applyLook();
      this.render();
      this.draw();
    };
    root.querySelector("[data-logout]").onclick = async () => {
      await this.api.post("/api/admin/logout").catch(() => null);
      this.api.signedOut();
      this.login();
    };
    const form = root.querySelector("form.period");
    form.onsubmit = (event) => {
      event.preventDefault();
      const values = new FormData(form);
      const period = { from: String(values.get("from")), to: String(values.get("to")), interval: String(values.get("interval")) };
      if (period.from && period.to && period.from > period.to) { // said here, in the page's language
        this.asked = (this.asked || 0) + 1; // a period still loading is no longer wanted
        this.data = null;
        this.draw();
        root.querySelector(".error").textContent = this.tr("backwards");
        return;
      }
      this.period = period;
      this.load();
    };
    for (const button of root.querySelectorAll("[data-csv]")) button.onclick = () => this.download(button.dataset.csv);
    root.querySelector("#recordings").onclick = (event) => {
      const button = event.target.closest("button[data-play], button[data-save], button[data-remove]");
      if (!button) return;
      if (button.dataset.play) this.play(button.dataset.play, button.dataset.what);
      else if (button.dataset.save) this.save(`/api/recordings/${encodeURIComponent(button.dataset.save)}`, `${button.dataset.save}.wav`);
      else this.remove(button.dataset.remove, button.dataset.what);
    };
  }

  query(kind, csv = false) {
    const p = this.period;
    const q = new URLSearchParams({ from: p.from, to: p.to });
    if (kind === "queues") q.set("interval", p.interval);
    if (csv) q.set("format", "csv");
    return `/api/reports/${kind}?${q}`;
  }

  async load() {
    const shown = root.querySelector(".error");
    shown.textContent = this.tr("loading");
    // Only the last period asked for is shown: an earlier one answering late is dropped.
    const asked = this.asked = (this.asked || 0) + 1;
    try {
      const q = new URLSearchParams({ from: this.period.from, to: this.period.to });
      // A server without recordings, or a refusal of them alone, leaves the reports whole.
      const recordings = this.api.get(`/api/recordings?${q}`).catch((err) => err);
      const [queues, agents] = await Promise.all([this.api.get(this.query("queues")), this.api.get(this.query("agents"))]);
      const data = { queues, agents, recordings: await recordings };
      if (asked !== this.asked) return undefined;
      this.data = data;
      shown.textContent = "";
    } catch (err) {
      if (asked !== this.asked) return undefined;
      this.data = null;
      if (err instanceof ApiError && err.status === 401) return this.login(this.tr("refused"));
      shown.textContent = err.status === 403 ? this.tr("agentOnly") : err.status === 422 ? this.tr("badPeriod", { detail: err.message }) : this.tr("unreachable");
    }
    this.draw();
    return undefined;
  }

  download(kind) {
    return this.save(this.query(kind, true), `${kind}.csv`);
  }

  // A file (a CSV, a recording) fetched with the sign-in's token (a link cannot carry it);
  // null, with the reason shown, when it is refused.
  async fetchFile(path) {
    const r = await fetch(path, { headers: { Authorization: `Bearer ${this.api.token}` } });
    if (r.ok) return r;
    root.querySelector(".error").textContent = this.tr(r.status === 403 ? "agentOnly" : "unreachable");
    return null;
  }

  async save(path, fallback) {
    const r = await this.fetchFile(path);
    if (!r) return;
    const name = (/filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "") || [])[1] || fallback;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await r.blob());
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // A recording played in the page: its WAV fetched with the token, then given to <audio>.
  async play(uniqueid, what) {
    const r = await this.fetchFile(`/api/recordings/${encodeURIComponent(uniqueid)}`);
    if (!r) return;
    const player = root.querySelector("[data-player]");
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(await r.blob());
    player.hidden = false;
    root.querySelector("[data-playing]").textContent = this.tr("playing", { what });
    await player.play().catch(() => null); // refused without a gesture: the controls are there
  }

  // A recording deleted (an administrator's: the token or a superuser), once confirmed.
  async remove(uniqueid, what) {
    if (!window.confirm(this.tr("removeRecording", { what }))) return;
    try {
      await this.api.remove(`/api/recordings/${encodeURIComponent(uniqueid)}`);
    } catch (err) {
      root.querySelector(".error").textContent = err.message || this.tr("unreachable");
      return;
    }
    await this.load();
  }

  destroyCharts() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  resize() {
    for (const chart of this.charts) {
      const box = chart.root.parentElement;
      if (box) chart.setSize({ width: box.clientWidth, height: chart.height });
    }
  }

  draw() {
    this.destroyCharts();
    if (!this.data) { // nothing of another period is left under these dates
      for (const id of ["sl-chart", "abandoned-chart", "aht-chart", "queues", "agents", "recordings"]) {
        root.querySelector(`#${id}`).innerHTML = "";
      }
      return;
    }
    const { queues, agents } = this.data;
    const byQueue = new Map();
    for (const row of queues) {
      if (!byQueue.has(row.queue_id)) byQueue.set(row.queue_id, { name: row.name, rows: [] });
      byQueue.get(row.queue_id).rows.push(row);
    }
    const list = [...byQueue.values()];
    // The intervals by their place (0, 1, …), named by their local start as the server
    // gives it: a day with a DST change keeps its 23 or 25 hours, in the server's time zone.
    const starts = list.length ? list[0].rows.map((r) => r.start) : [];
    const any = queues.some((r) => r.offered > 0);
    this.chart("sl-chart", starts, list.map((q) => ({ label: q.name, values: q.rows.map((r) => r.service_level) })), { max: 100, any });
    this.chart("abandoned-chart", starts, list.map((q) => ({ label: q.name, values: q.rows.map((r) => r.abandoned) })), { bars: true, any });
    const busy = agents.filter((a) => a.answered > 0);
    this.agentChart(busy);
    this.table("queues", QUEUE_COLUMNS, queues.filter((r) => r.offered > 0), (row, key) =>
      key === "start" ? row.start.replace("T", " ").slice(0, this.period.interval === "day" ? 10 : 16) : row[key]);
    this.table("agents", AGENT_COLUMNS, agents, (row, key) =>
      key.endsWith("time") ? duration(row[key]) : row[key]);
    this.recordings(this.data.recordings, byQueue);
  }

  // A moment as the reports say their intervals: the server's local time ("2026-11-24 08:10:05"),
  // by the UTC offset of the report's interval that holds it (its start says it, DST
  // included); the browser's own time zone for one outside every interval.
  serverTime(t) {
    const row = ((this.data && this.data.queues) || []).find((r) => Date.parse(r.start) <= t * 1000 && t * 1000 < Date.parse(r.end));
    const offset = row && /([+-])(\d\d):(\d\d)$/.exec(row.start);
    const minutes = offset ? (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : -new Date(t * 1000).getTimezoneOffset();
    return new Date(t * 1000 + minutes * 60000).toISOString().slice(0, 19).replace("T", " ");
  }

  // The period's recordings (of the queues this sign-in supervises: the server's rule), each
  // to play here or download as its WAV.
  recordings(found, byQueue) {
    const box = root.querySelector("#recordings");
    if (!Array.isArray(found)) {
      box.innerHTML = `<p class="nothing">${esc(this.tr("recordingsUnavailable", { detail: (found && found.message) || this.tr("unreachable") }))}</p>`;
      return;
    }
    if (!found.length) {
      box.innerHTML = `<p class="nothing">${esc(this.tr("noRecordings"))}</p>`;
      return;
    }
    const when = (t) => this.serverTime(t);
    const names = new Map(this.data.agents.map((a) => [a.username, a.displayname || a.username]));
    const head = ["recStart", "queue", "recAgents", "recLength"].map((k, i) => `<th scope="col" class="${i < 3 ? "text" : ""}">${esc(this.tr(k))}</th>`).join("");
    const rows = [...found].reverse().map((r) => {
      const queue = r.queue === null || r.queue === undefined ? "–" : byQueue.get(r.queue)?.name || `#${r.queue}`;
      const agents = (r.agents && r.agents.length ? r.agents : [r.agent]).filter(Boolean).map((u) => names.get(u) || u).join(", ") || "–";
      const what = `${when(r.start)}, ${agents}`;
      return `<tr data-recording="${esc(r.uniqueid)}"><td class="text">${esc(when(r.start))}</td><td class="text">${esc(queue)}</td>
        <td class="text">${esc(agents)}</td><td>${esc(duration(r.seconds))}</td>
        <td class="text actions"><button type="button" data-play="${esc(r.uniqueid)}" data-what="${esc(what)}">${esc(this.tr("play"))}</button>
        <button type="button" data-save="${esc(r.uniqueid)}">${esc(this.tr("download"))}</button>${this.role === "admin"
          ? `<button type="button" class="danger" data-remove="${esc(r.uniqueid)}" data-what="${esc(what)}">${esc(this.tr("remove"))}</button>` : ""}</td></tr>`;
    }).join("");
    box.innerHTML = `<table id="recordings-table"><thead><tr>${head}<th scope="col"><span class="sr-only">${esc(this.tr("play"))}</span></th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  /** The charts' axes: ``values`` names the x ticks (at ``incrs`` apart); ``whole``: the y
   * axis counts (calls, seconds), so its ticks are whole numbers. */
  axes(values, incrs, whole = false) {
    const style = getComputedStyle(document.documentElement);
    const text = style.getPropertyValue("--text").trim();
    const grid = style.getPropertyValue("--grid").trim();
    const y = { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid } };
    if (whole) y.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    return [{ stroke: text, grid: { stroke: grid }, ticks: { stroke: grid }, values, incrs, space: 48 }, y];
  }

  // An interval's name on the axis: its hour (and date at midnight), or its date.
  when(start, full = false) {
    const date = start.slice(5, 10);
    const hour = start.slice(11, 16);
    if (this.period.interval === "day") return date;
    return full || hour === "00:00" ? `${date} ${hour}` : hour;
  }

  chart(id, starts, series, { max, bars, any }) {
    const box = root.querySelector(`#${id}`);
    if (!any) {
      box.innerHTML = `<p class="nothing">${esc(this.tr("nothing"))}</p>`;
      return;
    }
    const name = (u, ticks) => ticks.map((t) => (Number.isInteger(t) && starts[t] !== undefined ? this.when(starts[t]) : ""));
    const opts = {
      width: box.clientWidth,
      height: 240,
      scales: {
        x: { time: false, range: [-0.5, Math.max(0.5, starts.length - 0.5)] },
        y: max ? { range: [0, max] } : { range: (u, lo, hi) => [0, Math.max(1, hi)] },
      },
      axes: this.axes(name, [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336], !max),
      series: [
        { label: this.tr("start"), value: (u, v) => (v === null || starts[v] === undefined ? "" : this.when(starts[v], true)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
          fill: bars ? `${COLOURS[i % COLOURS.length]}66` : undefined,
          points: { show: !bars, size: 6 },
          paths: bars ? window.uPlot.paths.bars({ size: [0.8 / Math.max(1, series.length), 40], align: 0 }) : undefined,
        })),
      ],
    };
    const xs = starts.map((_, i) => i);
    this.charts.push(new window.uPlot(opts, [xs, ...series.map((s) => s.values)], box));
  }

  agentChart(busy) {
    const box = root.querySelector("#aht-chart");
    if (!busy.length) {
      box.innerHTML = `<p class="nothing">${esc(this.tr("nothing"))}</p>`;
      return;
    }
    const names = busy.map((a) => a.displayname || a.username);
    // Under each bar its agent's name; where the names would run into each other (a phone's
    // width), the first word of each (the whole name is in the legend, at the pointer);
    // judged at each drawing, so a resized window shortens or lengthens them.
    const short = names.map((n) => n.split(" ")[0].slice(0, 12));
    const labelsAt = (width) => (width / busy.length >= 120 ? names : short);
    const xs = busy.map((a, i) => i);
    const talk = busy.map((a) => Math.round(a.talktime / a.answered));
    const aht = busy.map((a) => Math.round((a.talktime + a.acwtime) / a.answered));
    const opts = {
      width: box.clientWidth,
      height: 240,
      scales: { x: { time: false, range: [-0.6, busy.length - 0.4] }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
      axes: this.axes((u, ticks) => {
        const labels = labelsAt(u.width);
        return ticks.map((t) => (Number.isInteger(t) && labels[t] !== undefined ? labels[t] : ""));
      }, [1, 2, 5, 10, 20, 50], true),
      series: [
        { label: this.tr("agent"), value: (u, v) => (v === null ? "" : names[v] ?? "") },
        { label: `${this.tr("talk")} + ${this.tr("wrapUp")}`, stroke: COLOURS[0], fill: `${COLOURS[0]}99`, paths: window.uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } },
        { label: this.tr("talk"), stroke: COLOURS[1], fill: `${COLOURS[1]}cc`, paths: window.uPlot.paths.bars({ size: [0.35, 50] }), points: { show: false } },
      ],
    };
    this.charts.push(new window.uPlot(opts, [xs, aht, talk], box));
  }

  table(id, columns, rows, cell) {
    const box = root.querySelector(`#${id}`);
    if (!rows.length) {
      box.innerHTML = `<p class="nothing">${esc(this.tr("nothing"))}</p>`;
      return;
    }
    const text = new Set(["name", "start", "displayname"]);
    const head = columns.map((c) => `<th scope="col" class="${text.has(c) ? "text" : ""}">${esc(this.tr(c === "name" ? "queue" : c === "displayname" ? "agent" : c))}</th>`).join("");
    const body = rows.map((row) => `<tr>${columns.map((c) => {
      const v = cell(row, c);
      return `<td class="${text.has(c) ? "text" : ""}">${esc(v === null || v === undefined ? "–" : v)}</td>`;
    }).join("")}</tr>`).join("");
    box.innerHTML = `<table id="${id}-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
}

new Reports().start();
