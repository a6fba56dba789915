// <ucs-operator>: the agent's desktop, a view of the controller in an open shadow root (so the
// CRM's styles do not reach it). Each part re-renders alone, so typing is never interrupted.

import { CALL_STATE, ringsHere } from "./calls.js";
import { RingAlerts } from "./alerts.js";
import { listen } from "./hotkeys.js";
import { LAYOUT_STYLE, icon, lastPhone, rememberPhone } from "./layout.js";
import { errorText, t } from "./i18n.js";
import { RINGING_SOUNDS } from "./methods.js";
import { SOFTPHONE, supported as softphoneSupported } from "./softphone.js";
import { TEAM_STYLE, teamHtml, tickTeam, watchScrollers } from "./team-panel.js";

const STYLE = `
:host { all: initial; display: block; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  --bg: #f6f7fb; --card: #ffffff; --text: #1d2433; --muted: #667085; --line: #e3e6ee;
  --accent: #2456c8; --ok: #137a45; --warn: #a15c00; --bad: #b42318; --hold: #6741d9;
  --solid: #2456c8; --offline: #667085; }
/* White text on every coloured background is at least 4.5:1 (WCAG AA), in both themes. */
:host([theme="dark"]) { --bg: #141821; --card: #1d2330; --text: #e8ecf4; --muted: #98a2b3;
  --line: #2c3444; --accent: #6b9bff; }
* { box-sizing: border-box; }
.root { background: var(--bg); color: var(--text); border-radius: 12px; padding: 12px;
  min-width: 300px; }
header { display: flex; align-items: center; gap: 8px; margin-bottom: 10px; }
header h1 { font-size: 16px; margin: 0; flex: 1; }
.who { color: var(--muted); font-size: 12px; }
.banner { background: var(--warn); color: #fff; border-radius: 8px; padding: 6px 10px; margin-bottom: 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px; margin-bottom: 10px; }
.card h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
label { display: block; font-size: 12px; color: var(--muted); margin: 8px 0 4px; }
input, select { width: 100%; padding: 8px 10px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--card); color: var(--text); font: inherit; }
.check { display: flex; align-items: center; gap: 6px; color: var(--text); font-size: 13px; }
.check input { width: auto; }
button { font: inherit; border: 1px solid var(--line); background: var(--card); color: var(--text);
  border-radius: 8px; padding: 7px 12px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.primary { background: var(--solid); border-color: var(--solid); color: #fff; }
button.ok { background: var(--ok); border-color: var(--ok); color: #fff; }
button.bad { background: var(--bad); border-color: var(--bad); color: #fff; }
button:disabled { opacity: .5; cursor: default; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.row > * { flex: 1; }
.pill { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 12px; color: #fff; }
.s-READY { background: var(--ok); } .s-AUX { background: var(--warn); } .s-ACW { background: var(--hold); }
.s-OFFLINE { background: var(--offline); }
.queue { display: flex; justify-content: space-between; align-items: center; padding: 4px 0;
  border-bottom: 1px solid var(--line); }
.queue:last-child { border-bottom: 0; }
.call .party { font-size: 17px; font-weight: 600; overflow-wrap: anywhere; display: -webkit-box;
  -webkit-box-orient: vertical; -webkit-line-clamp: 3; line-clamp: 3; overflow: hidden; }
.call .number { color: var(--muted); overflow-wrap: anywhere; }
.call .meta { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; margin: 4px 0 10px; }
.buttons { display: flex; gap: 6px; flex-wrap: wrap; }
.rec { color: var(--bad); font-weight: 600; display: inline-flex; align-items: center; gap: 4px; }
.rec i { width: 8px; height: 8px; border-radius: 50%; background: var(--bad); }
.rec.paused { color: var(--muted); font-weight: 400; }
.stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.stat b { display: block; font-size: 18px; }
.stat span { color: var(--muted); font-size: 12px; }
.note { border-radius: 8px; padding: 8px 10px; margin-top: 6px; display: flex; gap: 8px; color: #fff; }
.note span { flex: 1; } .note button { padding: 0 6px; background: transparent; border: 0; color: #fff; }
.n-error { background: var(--bad); } .n-warning { background: var(--warn); }
.n-success { background: var(--ok); } .n-info { background: var(--solid); }
/* The notes stay in sight at the foot of the window while the component is, however far down
   the page the button that caused them was. */
footer { position: sticky; bottom: 0; z-index: 3; padding-bottom: 4px; max-height: 40vh; overflow: auto; }
footer:empty { padding: 0; }
.wrapup { border-style: dashed; }
.phones button { margin: 4px 4px 0 0; }
.keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-top: 8px; }
.keypad button { padding: 8px 0; font-size: 16px; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
:host([theme="dark"]) .team .sl-ok { color: #5fd08f; } :host([theme="dark"]) .team .sl-bad { color: #ff9b8f; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
${TEAM_STYLE}${LAYOUT_STYLE}`;

const LANG_KEY = "ucsOperator:lang"; // the language the agent chose, remembered by the browser

// What identifies a control across a redraw: the call card it is in, and its name and data-*
// attributes (those whose value flips with the state are left out).
const FLIPPING = new Set(["data-suspended"]);
const CARDS = "[data-uniqueid],[data-ended],[data-wrapup]";

/** The call a card is of (its live card, the outcome of a dial, its wrap-up card: one call's
 * cards share it, so a choice and the focus go on from one to the next), "" outside them. */
function cardOf(el) {
  const holder = el.closest(CARDS);
  return holder ? holder.dataset.uniqueid || holder.dataset.ended || holder.dataset.wrapup : "";
}

function keyOf(el) {
  const own = [...el.attributes].filter((a) => a.name.startsWith("data-") && !FLIPPING.has(a.name));
  return `${cardOf(el)}/${el.tagName}/${el.name || ""}/${own.map((a) => `${a.name}=${a.value}`).join("&")}`;
}

/** The first control of ``root`` a keyboard user can reach (not in a hidden part). */
function firstControl(root) {
  if (!root) return null;
  return [...root.querySelectorAll("input, select, button, textarea")]
    .find((el) => !el.disabled && !el.closest("[hidden]")) || null;
}

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

class UcsOperator extends HTMLElement {
  connect(controller) {
    this.c = controller;
    this.shadow = this.attachShadow({ mode: "open" });
    this.shadow.innerHTML = `<style>${STYLE}</style><div class="root"></div><div class="sr-only" aria-live="assertive" data-live></div>`;
    this.root = this.shadow.querySelector(".root");
    this.alerts = new RingAlerts(this.shadow.querySelector("[data-live]"), (k) => this.tr(k));
    if (controller.config.hotkeys !== false) this.unlisten = listen(controller, (p) => this.act(p));
    try {
      const lang = localStorage.getItem(LANG_KEY);
      if (lang === "en" || lang === "cs") controller.lang = lang;
    } catch { /* storage refused: the configuration's language */ }
    this.codes = new Map(); // uniqueid -> the account codes saved on the call, as setAccountCode answered
    this.phase = undefined;
    controller.views.add(this);
    this.render();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.ticker);
    clearInterval(this.meterTimer);
    if (this.unlisten) this.unlisten();
    if (this.alerts) this.alerts.stop();
    if (this.c) this.c.views.delete(this);
  }

  tr(key) { return t(this.c.lang, key); }

  phoneName(identifier) {
    return identifier === SOFTPHONE ? this.tr("thisBrowser") : identifier;
  }

  /** The softphone's microphone and speaker, and a meter of the microphone's level. */
  softphoneInfo() {
    const s = this.c.softphone;
    if (!s.open) return `<p class="muted" data-softphone>${esc(this.tr("micOff"))}</p>`;
    clearInterval(this.meterTimer);
    this.meterTimer = setInterval(() => {
      const meter = this.shadow.querySelector("[data-level]");
      if (!meter || !s.open) { clearInterval(this.meterTimer); return; }
      meter.value = s.level();
    }, 100);
    return `<p class="muted" data-softphone>${esc(this.tr("microphone"))}: <b data-microphone>${esc(s.microphone || "—")}</b>
      <meter data-level min="0" max="1" value="0" aria-label="${esc(this.tr("inputLevel"))}"></meter><br>
      ${esc(this.tr("speaker"))}: <b data-speaker>${esc(s.speaker || this.tr("defaultSpeaker"))}</b></p>`;
  }

  /** Redraw a part of the screen without losing what the agent is typing there. */
  keep(box, draw) {
    const drafts = new Map();
    // (a code chosen on a call's card is still chosen on its wrap-up card once it ended)
    for (const input of box.querySelectorAll("input, select[data-listed]")) {
      if (input.value) drafts.set(`${cardOf(input)}/${input.name}`, input.value);
    }
    const active = this.shadow.activeElement;
    const focus = active && box.contains(active) ? keyOf(active) : null;
    const cardId = active && box.contains(active) ? cardOf(active) : "";
    draw();
    for (const input of box.querySelectorAll("input, select[data-listed]")) {
      const key = `${cardOf(input)}/${input.name}`;
      if (drafts.has(key)) input.value = drafts.get(key); // a choice no longer listed: none
    }
    if (focus === null) return;
    // Keyboard users stay where they were: the same control (on the call's wrap-up card once
    // it ended), else the first of the call's card, else the first thing left to act on, else
    // the agent's status (never the page's start, where the next Tab would begin again).
    const same = [...box.querySelectorAll("button, input, select")].find((el) => keyOf(el) === focus);
    const holder = cardId && [...box.querySelectorAll(CARDS)].find((el) => cardOf(el) === cardId);
    const next = same || (holder && firstControl(holder))
      || firstControl(box) || firstControl(this.main.querySelector("[data-status]"));
    next?.focus();
  }

  async act(promise) {
    try {
      await promise;
    } catch (err) {
      this.c.say((lang) => errorText(lang, err.code, err.message || String(err)), "error", `error.${err.code}.${err.message}`, 6000, this.c.phase);
    }
  }

  render() {
    const c = this.c;
    this.setAttribute("theme", c.theme);
    const hadFocus = this.shadow.activeElement !== null;
    let rebuilt = false; // the screen of another phase, drawn while the focus was in it
    if (this.phase !== c.phase || (c.phase === "DEVICE" && this.shown !== c.identifier)) {
      this.phase = c.phase;
      this.shown = c.identifier;
      this.root.setAttribute("lang", c.lang);
      this.root.innerHTML = `<header><h1>${esc(this.tr("title"))}</h1><span class="who"></span>
        <button type="button" data-lang lang="${c.lang === "cs" ? "en" : "cs"}">${esc(this.tr("language"))}</button></header>
        <div class="banner" hidden>${esc(this.tr("lost"))}</div><main></main><footer></footer>`;
      const lang = this.root.querySelector("[data-lang]");
      lang.onclick = () => {
        c.lang = c.lang === "cs" ? "en" : "cs";
        c.retranslate();
        try { localStorage.setItem(LANG_KEY, c.lang); } catch { /* not remembered */ }
        this.phase = undefined;
        this.relabel = true; // the same screen in the other language: the tab, the focus stay
        c.changed();
      };
      this.main = this.root.querySelector("main");
      const relabel = this.relabel;
      this.relabel = false;
      this.skeleton(relabel);
      if (relabel) lang.focus();
      else rebuilt = hadFocus;
    }
    const user = c.user;
    this.root.querySelector(".who").textContent = user ? user.displayname : "";
    this.root.querySelector(".banner").hidden = c.connected || !c.trouble;
    if (c.phase === "IDENTIFY") this.lastPhoneOffer();
    if (c.phase !== "READY") this.codes.clear();
    if (c.phase === "READY") {
      rememberPhone(user && user.id, c.identifier);
      this.renderReady();
      const box = this.main.querySelector("[data-settings]");
      const sound = box && box.querySelector("[data-sound]");
      if (sound && this.shadow.activeElement !== sound) sound.value = c.ringingSound;
      const theme = box && box.querySelector("[data-theme]");
      if (theme) theme.checked = c.theme === "dark";
    }
    this.renderNotes();
    // A keyboard user's step done (signed in, a phone chosen, confirmed): the next screen's
    // first control, not the page's start.
    if (rebuilt) firstControl(this.main)?.focus();
    this.alerts.update(c.phase === "READY" ? [...c.calls.values()] : [], (call) => this.describe(call));
  }

  /** One click for a returning agent: the phone of last time, chosen and confirmed (shown
   * once the User object, whose phone it is, has come). */
  lastPhoneOffer() {
    const c = this.c;
    const slot = this.main && this.main.querySelector("[data-last-slot]");
    const last = lastPhone(c.user && c.user.id);
    if (!slot || !last || slot.dataset.phone === last) return;
    slot.dataset.phone = last;
    slot.innerHTML = `<button type="button" class="primary last-phone" data-last-phone="${esc(last)}">${esc(this.tr("startOn").replace("{phone}", this.phoneName(last)))}</button>`;
    slot.querySelector("button").onclick = () => {
      RingAlerts.ask();
      this.act(c.api.selectIdentifier(last).then(() => c.api.provision()));
    };
  }

  /** What is said and shown of a ringing call: who calls, and through which queue. */
  describe(call) {
    const party = call.name || call.caller_name || call.number || this.tr("unknown");
    const queue = call.direction === "INCOMING" && this.c.queues.find((q) => q.name === call.called_name);
    return this.tr("incomingFrom").replace("{party}", party) + (queue ? ` · ${this.tr("queueOf")}: ${queue.name}` : "");
  }

  /** The screen of the phase; ``relabel``: the same one again in the other language (what the
   * agent had open stays open). */
  skeleton(relabel = false) {
    const c = this.c;
    const m = this.main;
    if (c.phase === "CREDENTIALS" || c.phase === null) {
      m.innerHTML = `<form class="card" data-login>
        <label>${esc(this.tr("username"))}<input name="username" autocomplete="username" required></label>
        <label>${esc(this.tr("password"))}<input name="password" type="password" autocomplete="current-password"></label>
        <div class="notes-inline"></div>
        <label class="check"><input type="checkbox" name="remember"> ${esc(this.tr("remember"))}</label>
        <p><button class="primary" type="submit">${esc(this.tr("login"))}</button></p></form>`;
      m.querySelector("form").onsubmit = (e) => {
        e.preventDefault();
        RingAlerts.ask(); // a click: the moment browsers let a page ask for notifications
        const f = e.target;
        this.act(c.api.login(f.username.value.trim(), f.password.value, f.remember.checked));
      };
    } else if (c.phase === "IDENTIFY") {
      const listed = c.config.listDevices ? c.user?.lines || [] : [];
      const browser = softphoneSupported() ? `<button type="button" data-phone="${SOFTPHONE}">${esc(this.tr("thisBrowser"))}</button>` : "";
      const phones = browser + listed.map((l) => `<button type="button" data-phone="${esc(l.identifier)}">${esc(l.identifier)} · ${esc(l.extension)}</button>`).join("");
      m.innerHTML = `<form class="card" data-identify><div data-last-slot></div><h2>${esc(this.tr("choosePhone"))}</h2>
        <input name="identifier" aria-label="${esc(this.tr("identifierHint"))}" placeholder="${esc(this.tr("identifierHint"))}" required>
        <div class="phones">${phones}</div>
        <p class="row"><button class="primary" type="submit">${esc(this.tr("use"))}</button>
        <button type="button" data-logout>${esc(this.tr("logout"))}</button></p></form>`;
      m.querySelector("form").onsubmit = (e) => {
        e.preventDefault();
        this.act(c.api.selectIdentifier(e.target.identifier.value.trim()));
      };
      for (const b of m.querySelectorAll("[data-phone]")) {
        b.onclick = (e) => { e.preventDefault(); this.act(c.api.selectIdentifier(b.dataset.phone)); };
      }
      m.querySelector("[data-logout]").onclick = () => this.act(c.api.logout());
      this.lastPhoneOffer();
    } else if (c.phase === "DEVICE") {
      m.innerHTML = `<div class="card"><h2>${esc(this.tr("confirmPhone"))}</h2>
        <p>${esc(this.tr("confirmText"))} <b>${esc(this.phoneName(c.identifier))}</b></p>
        <p class="row"><button type="button" class="primary" data-confirm>${esc(this.tr("confirm"))}</button>
        <button type="button" data-change>${esc(this.tr("change"))}</button></p></div>`;
      m.querySelector("[data-confirm]").onclick = () => { RingAlerts.ask(); this.act(c.api.provision()); };
      m.querySelector("[data-change]").onclick = () => this.act(c.api.identify());
    } else if (c.phase === "READY") {
      if (!relabel || !this.teamState) {
        this.tab = "desk";
        this.teamState = { sort: "name", status: "", queue: "" };
      }
      m.innerHTML = `<div class="tabs" role="tablist" data-tabs hidden>
          <button type="button" role="tab" data-tab="desk" aria-selected="true">${esc(this.tr("desk"))}</button>
          <button type="button" role="tab" data-tab="team" aria-selected="false">${esc(this.tr("team"))}</button></div>
        <div data-teampanel hidden></div><div data-desk class="desk-cols"><div>
        <div class="card" data-status></div><div data-calls></div>
        <form class="card" data-dial><h2>${esc(this.tr("dial"))}</h2>
          <div class="row dial-row"><input name="number" aria-label="${esc(this.tr("number"))}" placeholder="${esc(this.tr("numberOrName"))}" list="ucs-directory" autocomplete="off">
          <datalist id="ucs-directory"></datalist>
          <select name="queue" aria-label="${esc(this.tr("dialQueue"))}"></select></div>
          <button type="button" class="keypad-toggle" data-keypad-toggle aria-expanded="false" aria-controls="keypad">${esc(this.tr("keypad"))}</button>
          <div class="keypad" id="keypad" hidden>${[..."123456789*0#"].map((k) => `<button type="button" data-key="${k}">${k}</button>`).join("")}</div>
          <p class="row"><button class="ok" type="submit">${icon("phone")}${esc(this.tr("dial"))}</button>
          <button type="button" data-transfer>${esc(this.tr("transfer"))}</button>
          <button type="button" data-blind>${esc(this.tr("blind"))}</button></p></form>
        </div><div><div class="card" data-queues></div><div class="card" data-stats></div>
        <div class="card" data-settings></div></div></div>`;
      const toggle = m.querySelector("[data-keypad-toggle]");
      toggle.onclick = () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        m.querySelector(".keypad").hidden = !open;
      };
      for (const b of m.querySelectorAll("[data-tab]")) {
        b.onclick = () => { this.tab = b.dataset.tab; this.renderTeam(); };
      }
      const dial = m.querySelector("[data-dial]");
      dial.onsubmit = (e) => {
        e.preventDefault();
        const q = dial.queue.value;
        this.act(c.api.dial(dial.number.value, /^\d+$/.test(q) ? Number(q) : q));
      };
      // The directory to pick from (colleagues by name or extension), fresh at each focus.
      dial.number.onfocus = () => c.api.directory().then((d) => {
        m.querySelector("#ucs-directory").innerHTML = d.agents.filter((a) => a.extension).map((a) =>
          `<option value="${esc(a.extension)}">${esc(a.displayname)} · ${esc(this.tr(a.status))}${a.reason ? ` · ${esc(a.reason)}` : ""}${a.busy ? ` · ${esc(this.tr("onCall"))}` : ""}</option>`).join("");
      }).catch(() => { /* no directory now: the agent types a number */ });
      for (const key of m.querySelectorAll("[data-key]")) {
        key.onclick = () => { dial.number.value += key.dataset.key; };
      }
      m.querySelector("[data-transfer]").onclick = () => this.act(c.api.transfer(dial.number.value || undefined));
      m.querySelector("[data-blind]").onclick = () => this.act(c.api.blindTransfer(dial.number.value));
      const campaigns = c.queues.filter((q) => q.type === 0);
      dial.queue.innerHTML = `<option value="undefined">${esc(this.tr("auto"))}</option>
        <option value="directCall">${esc(this.tr("direct"))}</option>` +
        campaigns.map((q) => `<option value="${q.id}">${esc(q.name)}</option>`).join("");
      this.renderSettings();
    }
  }

  renderReady() {
    const c = this.c;
    const user = c.user || {};
    const status = this.main.querySelector("[data-status]");
    const options = [`<option value="READY">${esc(this.tr("READY"))}</option>`]
      .concat(c.reasons.map((r) => `<option value="AUX:${esc(r)}">${esc(this.tr("AUX"))} · ${esc(r)}</option>`))
      .concat([`<option value="ACW">${esc(this.tr("ACW"))}</option>`, `<option value="OFFLINE">${esc(this.tr("OFFLINE"))}</option>`]);
    this.keep(status, () => { status.innerHTML = `<div class="status-line"><span class="pill s-${esc(user.status)}">${esc(this.tr(user.status || "OFFLINE"))}${c.reason ? ` · ${esc(c.reason)}` : ""}</span>
      <span class="muted" data-since></span></div>
      <div class="row"><select data-change-status aria-label="${esc(this.tr("statusLabel"))}">${options.join("")}</select></div>
      <p class="row muted"><span>${esc(this.tr("phone"))}: <b>${esc(this.phoneName(c.identifier))}</b></span>
      <button type="button" data-identify>${esc(this.tr("change"))}</button><button type="button" data-logout>${esc(this.tr("logout"))}</button></p>
      ${c.identifier === SOFTPHONE ? this.softphoneInfo() : ""}`;
      status.querySelector("select").value = user.status === "AUX" ? `AUX:${c.reason}` : user.status;
    }); // keyboard users stay where they were
    const select = status.querySelector("select");
    select.onchange = () => {
      const [s, reason] = select.value.split(":");
      this.act(c.api.changeStatus(s, reason));
    };
    status.querySelector("[data-identify]").onclick = () => this.act(c.api.identify());
    status.querySelector("[data-logout]").onclick = () => this.act(c.api.logout());
    this.renderCalls();
    this.renderQueues();
    this.renderStats();
    this.renderTeam();
    this.tick();
  }

  /** The supervisor's tab (team-panel.js): shown to supervisors only. */
  renderTeam() {
    const c = this.c;
    const tabs = this.main.querySelector("[data-tabs]");
    const panel = this.main.querySelector("[data-teampanel]");
    const desk = this.main.querySelector("[data-desk]");
    if (!tabs) return;
    const supervisor = c.supervises();
    tabs.hidden = !supervisor;
    if (!supervisor) this.tab = "desk";
    for (const b of tabs.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === this.tab));
    panel.hidden = this.tab !== "team";
    desk.hidden = this.tab === "team";
    if (panel.hidden) return;
    const focused = this.shadow.activeElement;
    const mark = focused && panel.contains(focused) ? [...focused.attributes].find((a) => a.name.startsWith("data-team-")) : null;
    const refocus = mark ? `[${mark.name}="${CSS.escape(mark.value)}"]` : null;
    // A push redraws the panel: tables scrolled sideways stay where the supervisor put them.
    const scrolled = new Map([...panel.querySelectorAll("[data-team-scroll]")].map((el) => [el.dataset.teamScroll, el.scrollLeft]));
    panel.innerHTML = teamHtml(c.team, { tr: (k) => this.tr(k), esc, clock, state: this.teamState, now: Date.now() / 1000, monitoring: c.monitoring, lang: c.lang });
    for (const el of panel.querySelectorAll("[data-team-scroll]")) el.scrollLeft = scrolled.get(el.dataset.teamScroll) || 0;
    watchScrollers(panel);
    for (const b of panel.querySelectorAll("[data-monitor]")) b.onclick = () => this.act(c.api[b.dataset.monitor](Number(b.dataset.user)));
    const stop = panel.querySelector("[data-monitor-end]");
    if (stop) stop.onclick = () => this.act(c.api.hangup());
    const sort = panel.querySelector("[data-team-sort]");
    const status = panel.querySelector("[data-team-status]");
    if (sort) sort.onchange = () => { this.teamState.sort = sort.value; this.renderTeam(); };
    if (status) status.onchange = () => { this.teamState.status = status.value; this.renderTeam(); };
    const queue = panel.querySelector("[data-team-queue-filter]");
    if (queue) queue.onchange = () => { this.teamState.queue = queue.value; this.renderTeam(); };
    if (refocus) panel.querySelector(refocus)?.focus(); // keyboard users stay where they were
  }

  renderCalls() {
    const c = this.c;
    const box = this.main.querySelector("[data-calls]");
    const calls = [...c.calls.values()];
    const ended = c.outcomes.list();
    const wrapups = [...c.wrapups.values()];
    if (!calls.length && !ended.length && !wrapups.length) {
      this.keep(box, () => { box.innerHTML = `<div class="card muted">${esc(this.tr("noCall"))}</div>`; });
      return;
    }
    const focus = c.focus();
    const queueOf = (call) => call.direction === "INCOMING" && c.queues.find((q) => q.name === call.called_name);
    this.keep(box, () => { box.innerHTML = calls.map((call) => {
      const incoming = call.direction === "INCOMING";
      const named = incoming ? (call.name || call.caller_name) : (call.called_name || call.name); // the CRM's name first
      const number = incoming ? call.caller_number : call.called_number;
      const party = named || number;
      const label = {
        [CALL_STATE.CONNECTING]: "dialling",
        [CALL_STATE.RINGING]: incoming ? "ringing" : "dialling",
        [CALL_STATE.CONNECTED]: "connected",
        [CALL_STATE.SUSPENDED]: "waiting",
        [CALL_STATE.HELD]: "held",
      }[call.state] || "dialling";
      const mine = incoming ? call.connected_muted : call.caller_muted;
      const isFocus = focus && focus.uniqueid === call.uniqueid;
      const recording = c.recording.has(call.uniqueid);
      const rec = recording
        ? `<span class="rec" data-recording="on"><i aria-hidden="true"></i>${esc(this.tr("recordingNow"))}</span>`
        : call.recorded ? `<span class="rec paused" data-recording="paused">${esc(this.tr("recordingPaused"))}</span>` : "";
      let buttons = "";
      const offered = ringsHere(call);
      if (isFocus) {
        if (offered) buttons += `<button type="button" class="ok" data-do="answer">${icon("phone")}${esc(this.tr("answer"))}</button>`;
        if (call.state === CALL_STATE.CONNECTED) buttons += `<button type="button" data-do="hold">${icon("hold")}${esc(this.tr("hold"))}</button><button type="button" data-do="mute" aria-pressed="${mine ? "true" : "false"}">${icon("mute")}${esc(this.tr(mine ? "unmute" : "mute"))}</button>`;
        if (call.recorded && call.state === CALL_STATE.CONNECTED) {
          const verb = recording ? "stopRecording" : "startRecording"; // a pause, and going on after it
          buttons += `<button type="button" data-do="${verb}">${esc(this.tr(verb))}</button>`;
        }
        if (call.state === CALL_STATE.HELD || (call.state === CALL_STATE.SUSPENDED && calls.length === 1)) buttons += `<button type="button" data-do="unhold">${esc(this.tr(call.state === CALL_STATE.SUSPENDED ? "back" : "unhold"))}</button>`;
        buttons += `<button type="button" class="bad" data-do="hangup">${icon("hangup")}${esc(this.tr(offered ? "reject" : "hangup"))}</button>`;
      }
      // The caller waits; the transfer completes only once the colleague answered.
      const consulted = calls.some((o) => o.uniqueid !== call.uniqueid && o.state === CALL_STATE.CONNECTED);
      if (call.state === CALL_STATE.SUSPENDED && consulted) buttons += `<button type="button" class="primary" data-do="finishTransfer">${esc(this.tr("finish"))}</button>`;
      const queue = queueOf(call);
      return `<div class="card call st-${call.state}" data-uniqueid="${esc(call.uniqueid)}">
        <h2>${esc(this.tr(call.data && call.data.callback === true ? "callback" : incoming ? "incoming" : "outgoing"))} · ${esc(this.tr(label))}</h2>
        <div class="party" title="${esc(party || "")}">${esc(party || this.tr("unknown"))}</div>${named ? `<div class="number">${esc(number)}</div>` : ""}
        ${queue ? `<div class="number" data-queue-name>${esc(this.tr("queueOf"))}: ${esc(queue.name)}</div>` : ""}
        <div class="meta"><span data-duration="${esc(call.uniqueid)}"></span>${rec}<span>${call.subcalls > 1 ? `×${call.subcalls}` : ""}</span></div>
        <div class="buttons">${buttons}</div>
        ${this.savedCodes(call.uniqueid)}
        ${this.codeForm(c.dispositions.get(call.uniqueid))}</div>`;
    }).join("") + ended.map(({ call, key }) => `<div class="card call ended" data-ended="${esc(call.uniqueid)}">
        <h2>${esc(this.tr("outgoing"))} · <span data-outcome="${esc(key)}">${esc(this.tr(`outcome.${key}`))}</span></h2>
        <div class="party">${esc(call.called_name || call.name || call.number || this.tr("unknown"))}</div>
        ${call.called_name || call.name ? `<div class="number">${esc(call.number)}</div>` : ""}
        <div class="buttons"><button type="button" data-close-outcome>${esc(this.tr("close"))}</button></div></div>`).join("")
      + wrapups.map(({ call, choices }) => this.wrapupCard(call, choices)).join(""); });
    for (const b of box.querySelectorAll("[data-do]")) b.onclick = () => this.act(c.api[b.dataset.do]());
    for (const b of box.querySelectorAll("[data-close-outcome]")) {
      b.onclick = () => c.outcomes.dismiss(b.closest("[data-ended]").dataset.ended);
    }
    for (const b of box.querySelectorAll("[data-close-wrapup]")) {
      b.onclick = () => c.dismissWrapup(b.closest("[data-wrapup]").dataset.wrapup);
    }
    for (const f of box.querySelectorAll("[data-code]")) {
      f.onsubmit = (e) => {
        e.preventDefault();
        const card = f.closest("[data-uniqueid], [data-wrapup]");
        const uid = card.dataset.uniqueid || card.dataset.wrapup;
        // Typed text first (where the queue allows it), else the code picked from the list.
        const code = (f.code ? f.code.value.trim() : "") || (f.listed ? f.listed.value : "");
        if (!code) { // said, the focus on what to choose (kept there as the notes redraw)
          (f.listed || f.code).focus();
          c.say((lang) => t(lang, "chooseCodeFirst"), "warning", "chooseCodeFirst", 5000, "READY");
          return;
        }
        // The codes saved so far are shown on the call (the answer lists them all).
        this.act(c.api.setAccountCode(uid, code).then((codes) => {
          this.codes.set(uid, Array.isArray(codes) ? codes : []);
          this.renderCalls();
        }));
        if (f.code) f.code.value = "";
        if (f.listed) f.listed.value = "";
      };
    }
    this.tick();
  }

  /** The codes saved for a call, as its card shows them ("" when none yet). */
  savedCodes(uniqueid) {
    const saved = this.codes.get(uniqueid) || [];
    if (!saved.length) return "";
    const names = saved.map((x) => esc(x.subAccountCode ? `${x.label || x.accountCode} (${x.subAccountCode})` : x.label || x.accountCode));
    return `<div class="number" data-codes>${esc(this.tr("savedCodes"))}: ${names.join(", ")}</div>`;
  }

  /** A call the agent talked on that ended, whose queue has a list of codes: given one (or
   * more) in wrap-up, then closed. */
  wrapupCard(call, choices) {
    const incoming = call.direction === "INCOMING";
    const named = incoming ? (call.name || call.caller_name) : (call.called_name || call.name);
    const number = incoming ? call.caller_number : call.called_number;
    const saved = this.savedCodes(call.uniqueid);
    return `<div class="card call wrapup" data-wrapup="${esc(call.uniqueid)}">
        <h2>${esc(this.tr("wrapUp"))} · ${esc(this.tr(saved ? "codeSaved" : "codeAsked"))}</h2>
        <div class="party">${esc(named || number || this.tr("unknown"))}</div>${named ? `<div class="number">${esc(number)}</div>` : ""}
        ${saved}${this.codeForm(choices)}
        <div class="buttons"><button type="button" data-close-wrapup>${esc(this.tr(saved ? "done" : "skipCode"))}</button></div></div>`;
  }

  /** A call's account code form: the list of its queue (dispositions) to pick from by label,
   * and a text field where the queue takes codes of the agent's own (or has no list). */
  codeForm(choice) {
    const listed = (choice && Array.isArray(choice.codes)) ? choice.codes : [];
    const free = !listed.length || !choice || choice.freeText !== false;
    const select = listed.length
      ? `<select name="listed" data-listed aria-label="${esc(this.tr("accountCode"))}"><option value="">${esc(this.tr("chooseCode"))}</option>${listed.map((d) => `<option value="${esc(d.accountCode)}">${esc(d.label)}</option>`).join("")}</select>`
      : "";
    const own = listed.length ? "otherCode" : "accountCode";
    const input = free ? `<input name="code" aria-label="${esc(this.tr(own))}" placeholder="${esc(this.tr(own))}">` : "";
    return `<form class="row codes" data-code>${select}${input}<button type="submit">${esc(this.tr("save"))}</button></form>`;
  }

  renderQueues() {
    const c = this.c;
    const box = this.main.querySelector("[data-queues]");
    const mine = (c.user && c.user.queues) || {};
    this.keep(box, () => { box.innerHTML = `<h2>${esc(this.tr("queues"))}</h2>` + c.queues.map((q) => {
      const m = mine[q.id] || mine[String(q.id)] || {};
      return `<div class="queue"><span>${esc(q.name)} ${m.suspended ? `<span class="muted">(${esc(this.tr("suspended"))})</span>` : ""}</span>
        <button type="button" data-queue="${q.id}" data-suspended="${m.suspended ? 1 : 0}" aria-label="${esc(this.tr(m.suspended ? "resume" : "suspend"))} ${esc(q.name)}">${esc(this.tr(m.suspended ? "resume" : "suspend"))}</button></div>`;
    }).join(""); });
    for (const b of box.querySelectorAll("[data-queue]")) {
      b.onclick = () => this.act(b.dataset.suspended === "1" ? c.api.resume(Number(b.dataset.queue)) : c.api.suspend(Number(b.dataset.queue)));
    }
  }

  renderStats() {
    const u = this.c.user || {};
    const box = this.main.querySelector("[data-stats]");
    const stat = (label, value) => `<div class="stat"><b data-stat="${label}">${esc(value)}</b><span>${esc(this.tr(label))}</span></div>`;
    box.innerHTML = `<h2>${esc(this.tr("stats"))}</h2><div class="stats">
      ${stat("answered", (u.in_calls_answered || 0) + (u.out_calls_answered || 0))}
      ${stat("missed", u.in_calls_unanswered || 0)}${stat("talk", clock(u.talktime || 0))}
      ${stat("ready", clock(u.readytime || 0))}${stat("aux", clock(u.auxtime || 0))}${stat("acw", clock(u.acwtime || 0))}</div>`;
  }

  renderSettings() {
    const c = this.c;
    const box = this.main.querySelector("[data-settings]");
    box.innerHTML = `<div class="settings-row"><label>${esc(this.tr("ringtone"))}<select data-sound>${RINGING_SOUNDS.map((s) => `<option value="${s}">${esc(this.tr(`sound.${s}`))}</option>`).join("")}</select></label>
      <button type="button" data-test>${esc(this.tr("test"))}</button><button type="button" data-stop>${esc(this.tr("stop"))}</button></div>
      <label class="check"><input type="checkbox" data-theme> ${esc(this.tr("theme"))}</label>`;
    const sound = box.querySelector("[data-sound]");
    sound.value = c.ringingSound;
    sound.onchange = () => this.act(c.api.selectRingingSound(sound.value));
    box.querySelector("[data-test]").onclick = () => this.act(c.api.testRingingSound());
    box.querySelector("[data-stop]").onclick = () => this.act(c.api.stopRingingSoundTest());
    const theme = box.querySelector("[data-theme]");
    theme.checked = c.theme === "dark";
    theme.onchange = () => this.act(c.api.setTheme(theme.checked ? "dark" : "default"));
  }

  renderNotes() {
    const c = this.c;
    const phase = c.phase || "CREDENTIALS";
    const notes = c.notifications.filter((n) => !n.boundState || n.boundState === phase);
    const html = notes.map((n) => `<div class="note n-${esc(n.type)}" role="alert"><span>${esc(n.text)}</span><button type="button" data-dismiss="${esc(n.id)}" aria-label="${esc(this.tr("close"))}">×</button></div>`).join("");
    const inline = this.main && this.main.querySelector(".notes-inline");
    const footer = this.root.querySelector("footer");
    if (inline && phase === "CREDENTIALS") {
      inline.innerHTML = html;
      footer.innerHTML = "";
    } else {
      footer.innerHTML = html;
    }
    for (const b of this.root.querySelectorAll("[data-dismiss]")) b.onclick = () => c.dismiss(b.dataset.dismiss);
  }

  tick() {
    const now = Date.now() / 1000;
    const panel = this.main && this.main.querySelector("[data-teampanel]");
    if (panel && !panel.hidden && this.c.team) {
      const waits = new Map(this.c.team.queues.map((q) => [String(q.queue_id), { waiting: q.waiting, longest: q.longest_wait, at: this.c.teamAt }]));
      tickTeam(panel, clock, now, waits);
    }
    for (const el of this.shadow.querySelectorAll("[data-duration]")) {
      const call = this.c.calls.get(el.dataset.duration);
      if (call) el.textContent = clock(now - (call.connected || call.created));
    }
    const since = this.shadow.querySelector("[data-since]");
    if (since && this.c.statusSince) since.textContent = clock(now - this.c.statusSince);
    // Today's times grow between the server's updates: add what passed since the last one.
    const u = this.c.user;
    if (u && this.c.phase === "READY") {
      const extra = (Date.now() - (this.c.userAt || Date.now())) / 1000;
      const grow = { ready: u.status === "READY", aux: u.status === "AUX", acw: u.status === "ACW" };
      for (const [key, field] of [["ready", "readytime"], ["aux", "auxtime"], ["acw", "acwtime"]]) {
        const el = this.shadow.querySelector(`[data-stat="${key}"]`);
        if (el) el.textContent = clock((u[field] || 0) + (grow[key] ? extra : 0));
      }
    }
  }
}

if (!customElements.get("ucs-operator")) customElements.define("ucs-operator", UcsOperator);

export function mount(controller, renderTo) {
  let host = document.getElementById(renderTo);
  if (!host) {
    host = document.createElement("div");
    host.id = renderTo;
    document.body.appendChild(host);
  }
  const element = document.createElement("ucs-operator");
  host.appendChild(element);
  element.connect(controller);
  return element;
}
