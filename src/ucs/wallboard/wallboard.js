// The wallboard (/wallboard/): every queue and agent of the center, large and live, for a
// screen on the wall. Signed in with a supervisor's login (their own queues and team), a
// superuser's (an admin session: the whole center) or the admin token
// (?token=… in the address, for a screen that starts by itself); ?lang=cs for Czech, ?goal=80
// for the service level (percent) under which a queue turns red (within 10 points: amber).
// It asks GET /api/team every 2 s.

import { WALLBOARD_TEXT, fill } from "../operator/i18n.js";
import { ApiError, Api } from "../admin/api.js";

const params = new URLSearchParams(window.location.search);
const lang = params.get("lang") === "cs" ? "cs" : "en";
const goal = Number(params.get("goal") || 80);
const tr = (key, values = {}) => fill(WALLBOARD_TEXT[lang][key] || WALLBOARD_TEXT.en[key] || key, values);
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const root = document.getElementById("wallboard");
document.documentElement.lang = lang;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function level(q) {
  if (q.service_level === null || q.service_level === undefined) return "none";
  if (q.service_level < goal) return "bad";
  return q.service_level < goal + 10 ? "warn" : "ok";
}

function campaignTile(q) {
  // An outgoing queue: nobody waits in it, so no service level; its calls in progress, and
  // today's dialled, answered by the called party, unanswered and the share answered.
  const ended = q.answered + q.unanswered;
  const rate = ended ? `${Math.round((100 * q.answered) / ended)} %` : "–";
  return `<section class="queue none campaign" data-queue="${q.queue_id}">
    <h2>${esc(q.name)}</h2>
    <div class="body">
      <div><div class="waiting">${q.active}</div><div class="label">${esc(tr("dialling"))}</div></div>
      <dl><dt>${esc(tr("dialled"))}</dt><dd>${q.dialled}</dd>
        <dt>${esc(tr("reached"))}</dt><dd>${q.answered}</dd>
        <dt>${esc(tr("unreached"))}</dt><dd>${q.unanswered}</dd>
        <dt>${esc(tr("reachRate"))}</dt><dd>${rate}</dd></dl>
    </div>
  </section>`;
}

function queueTile(q) {
  if (q.type === 0) return campaignTile(q);
  const sl = q.service_level === null ? "–" : `${Math.round(q.service_level)} %`;
  return `<section class="queue ${level(q)}" data-queue="${q.queue_id}">
    <h2>${esc(q.name)}</h2>
    <div class="body">
      <div><div class="waiting">${q.waiting}</div><div class="label">${esc(tr("waiting"))}</div></div>
      <dl><dt>${esc(tr("longest"))}</dt><dd class="longest">${clock(q.longest_wait)}</dd>
        <dt>${esc(tr("answered"))}</dt><dd>${q.answered}</dd>
        <dt>${esc(tr("abandoned"))}</dt><dd>${q.abandoned}</dd>
        <dt>${esc(tr("serviceLevel"))}</dt><dd>${sl}</dd></dl>
    </div>
  </section>`;
}

function agentTile(a, now) {
  const call = a.call;
  const onCall = call && call.state === 3;
  const number = onCall ? (call.direction === "OUTGOING" ? call.connected_number : call.caller_number) || "" : "";
  const what = onCall ? `${tr("onCall")} · ${number}` : tr(a.status) + (a.reason ? ` · ${a.reason}` : "");
  // Beside the clock a tile has room for a few words: the number of the call or the reason
  // say more than "On call" or "Not ready", which the tile's colour says; the whole is the
  // tile's title and what a screen reader reads.
  const shown = (onCall ? number : a.reason) || what;
  const tail = Boolean(onCall && number); // a number too long loses its start, not its end
  const since = onCall && call.connected ? call.connected : a.status_since;
  const time = a.status === "OFFLINE" && !call ? "" : clock(now - since); // not logged in: no clock
  const label = `${a.displayname}: ${what}${time ? `, ${time}` : ""}`;
  return `<div class="agent ${esc(a.status)}${onCall ? " call" : ""}" data-agent="${a.id}" title="${esc(label)}" role="img" aria-label="${esc(label)}">
    <div class="name">${esc(a.displayname)}</div>
    <div class="line"><div class="what${tail ? " tail" : ""}">${tail ? `\u200e${esc(shown)}\u200e` : esc(shown)}</div><div class="time">${time}</div></div></div>`;
}

class Wallboard {
  constructor() {
    this.api = new Api();
    const token = params.get("token");
    if (token) this.api.signedIn(token);
    this.team = null;
    this.at = 0; // the server's clock when the view was taken …
    this.local = 0; // … and ours then
  }

  start() {
    if (!this.api.token) return this.login();
    this.refresh();
    this.poll = setInterval(() => this.refresh(), 2000);
    this.tick = setInterval(() => this.render(), 1000);
    return undefined;
  }

  async refresh() {
    try {
      const team = await this.api.get("/api/team");
      this.team = team;
      this.at = team.now;
      this.local = Date.now() / 1000;
      this.failing = false;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) { // 403: no longer a supervisor
        clearInterval(this.poll);
        clearInterval(this.tick);
        this.api.signedOut();
        this.login(tr("refused"));
        return;
      }
      this.failing = true;
    }
    this.render();
  }

  render() {
    if (!this.team) return;
    const now = this.at + (Date.now() / 1000 - this.local);
    const age = Math.round(Date.now() / 1000 - this.local);
    const stale = this.failing ? `<span class="stale">${esc(tr("stale", { seconds: age }))}</span>` : "";
    const wait = (q) => ({ ...q, longest_wait: q.waiting ? q.longest_wait + (now - this.at) : 0 });
    // Few queues or agents take the screen in larger tiles (up to 10 queues and 60 agents fit
    // at the smallest): columns by how many there are, text scaled with the tiles.
    const queues = this.team.queues.length;
    const agents = this.team.agents.length;
    const queueCols = Math.min(5, Math.max(3, queues));
    const agentCols = Math.min(10, Math.max(4, agents));
    root.style.setProperty("--queue-cols", String(queueCols));
    root.style.setProperty("--qk", String(Math.min(1.5, 5 / queueCols)));
    root.style.setProperty("--agent-cols", String(agentCols));
    root.style.setProperty("--ak", String(Math.min(2, 10 / agentCols)));
    root.innerHTML = `<header><h1>${esc(tr("title"))}</h1>${stale}<span class="clock">${new Date().toLocaleTimeString(lang)}</span></header>
      <div class="queues">${this.team.queues.map((q) => queueTile(wait(q))).join("")}</div>
      <div class="agents">${this.team.agents.map((a) => agentTile(a, now)).join("")}</div>`;
  }

  login(error = "") {
    // One form, kept while signing in: a refusal shows its reason beside what was typed, and
    // the button waits for the answer (so a second press cannot race the first).
    root.innerHTML = `<form class="login"><h1>${esc(tr("title"))}</h1>
      <label for="u">${esc(tr("username"))}</label><input id="u" name="username" autocomplete="username">
      <label for="p">${esc(tr("password"))}</label><input id="p" name="password" type="password" autocomplete="current-password">
      <label for="t">${esc(tr("token"))}</label><input id="t" name="token" type="password">
      <button type="submit">${esc(tr("signIn"))}</button>
      <div class="error" role="alert">${esc(error)}</div></form>`;
    const form = root.querySelector("form");
    const button = form.querySelector("button");
    const shown = form.querySelector(".error");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const values = new FormData(form);
      shown.textContent = "";
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      try {
        if (values.get("token")) this.api.signedIn(String(values.get("token")));
        else {
          const session = await this.api.post("/api/admin/login", {
            username: values.get("username"), password: values.get("password"),
          });
          this.api.signedIn(session.token);
        }
        this.start();
      } catch (err) {
        shown.textContent = err.message || tr("refused");
        form.querySelector("#p").value = "";
        button.disabled = false;
        form.removeAttribute("aria-busy");
      }
    };
  }
}

new Wallboard().start();
