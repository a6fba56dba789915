// The operator component: window.ucsOperator's methods, callbacks and state (CONTRACT §5),
// over the operator protocol. The user interface (ucs-element.js) is a view of this controller;
// with `headless: true` there is none and the API works alone.

import { focusOf, ringsHere } from "./calls.js";
import { Connection, ProtocolError } from "./connection.js";
import { errorText, fill, t } from "./i18n.js";
import { ALIASES, METHODS, RINGING_SOUNDS, THEMES } from "./methods.js";
import { SOFTPHONE, Softphone } from "./softphone.js";
import { Ringer } from "./sounds.js";
import { Listeners } from "./listeners.js";
import { Outcomes, outcomeOf } from "./outcomes.js";

const CALLBACKS = [
  "onConnect", "onCredentials", "onUser", "onIdentify", "onIdentifier", "onDevice", "onReady",
  "onStateChange", "onCallRinging", "onCallConnect", "onCallHangup", "onCall", "onLogout",
  "onError", "onTeamChange",
];

function error(code, message) {
  return new ProtocolError(code, message);
}

function serverUrl(config, base) {
  const api = config.api || {};
  const secure = api.secure !== undefined ? Boolean(api.secure) : base.protocol === "https:";
  const host = api.hostname || base.hostname;
  const port = api.port || base.port;
  const path = (api.path || "").replace(/\/+$/, "");
  const origin = `${secure ? "https" : "http"}://${host}${port ? `:${port}` : ""}`;
  return { http: origin + path, ws: `${secure ? "wss" : "ws"}://${host}${port ? `:${port}` : ""}${path}/ws` };
}

export class Controller {
  constructor(api, base) {
    this.api = api;
    this.config = api;
    this.urls = serverUrl(api, base);
    this.phase = null; // not known until the server answers
    this.team = null; // a supervisor's team view (team(), amended by team.changed)
    this.connected = false;
    this.trouble = false; // the connection was lost or the server never reached: the banner shows
    this.user = null;
    this.userAt = null; // Date.now() when `user` came (its times go on from there)
    this.userKnown = false; // onUser was fired for this login
    this.calls = new Map(); // uniqueid -> Call object as this agent sees it
    this.dispositions = new Map(); // uniqueid -> {queue, codes, freeText}: the codes it may be given
    this.outcomes = new Outcomes(() => this.changed()); // dials that did not connect, shown a moment
    // uniqueid -> {call, choices}: calls the agent talked on that ended, whose queue has a list
    // of account codes: shown in wrap-up to be given one, until closed or the next call.
    this.wrapups = new Map();
    this.recording = new Set(); // uniqueids of the agent's calls being recorded now
    this.monitoring = null; // a supervisor's listen or barge: {uniqueid, userId, mode}
    this.identifier = null;
    this.line = null;
    this.ringingSound = RINGING_SOUNDS.includes(api.ringingSound) ? api.ringingSound : "default";
    this.theme = THEMES.includes(api.theme) ? api.theme : "default";
    // Choices made before login (the configuration's `theme` and `ringingSound`, setTheme in
    // CREDENTIALS, the choices of a session that ended): carried into the session at login,
    // where they become the session's (CONTRACT §5). Each is kept until the server took it.
    this.carry = {};
    if (THEMES.includes(api.theme)) this.carry.theme = api.theme;
    if (RINGING_SOUNDS.includes(api.ringingSound)) this.carry.ringingSound = api.ringingSound;
    this.lang = api.lang === "cs" ? "cs" : "en";
    this.reason = null;
    this.statusSince = null; // when the availability last changed (server seconds)
    this.acwUntil = null;
    this.queues = [];
    this.reasons = [];
    this.notifications = [];
    this.views = new Set();
    this.listeners = new Listeners(CALLBACKS); // on(name, fn): more than one part of a CRM
    this.ringer = new Ringer();
    this.testing = false; // a ringing sound is being tried (testRingingSound)
    this.storageKey = `ucsOperator:${this.urls.http}`;
    this.connection = new Connection(this.urls.ws, {
      onEvent: (msg) => this._event(msg),
      onStatus: (status) => this._status(status),
    });
    this.softphone = new Softphone(this.connection, api);
    this.softphone.onchange = () => this.changed();
  }

  // --- callbacks and views -------------------------------------------------------------------

  fire(name, ...args) {
    const callback = this.api[name];
    if (typeof callback === "function") {
      try {
        callback.apply(this.api, args);
      } catch (err) {
        console.error(`ucs: the ${name} callback failed`, err);
      }
    }
    this.listeners.fire(name, this.api, args); // after the property (CONTRACT §5)
  }

  changed() {
    for (const view of this.views) {
      try {
        view.render();
      } catch (err) {
        console.error("ucs: the view failed to render", err);
      }
    }
    this._ringing();
  }

  // --- state ---------------------------------------------------------------------------------

  focus() {
    return focusOf(this.calls.values());
  }

  stateObject() {
    return {
      state: this.phase || "CREDENTIALS",
      user: this.user,
      calls: [...this.calls.values()],
      call: this.focus(),
      identifier: this.identifier,
      line: this.line,
      ringingSound: this.ringingSound,
      theme: this.theme,
      auxReasons: [...this.reasons],
    };
  }

  _enter(phase) {
    if (phase === this.phase) return;
    this.phase = phase;
    if (phase === "CREDENTIALS") this.fire("onCredentials");
    else if (phase === "IDENTIFY") this.fire("onIdentify");
    else if (phase === "DEVICE") {
      this.fire("onDevice", { identifier: this.identifier, line: this.line });
      if (this.config.confirmDevice === false && document.visibilityState !== "hidden") {
        this.call("provision").catch((err) => this.fire("onError", err));
      }
    } else if (phase === "READY") {
      this.fire("onReady", this.stateObject());
      this._watchTeam();
    }
    if (phase !== "READY") this.team = null;
  }

  supervises() {
    const user = this.user;
    if (!user) return false;
    return Boolean(user.superuser) || Object.values(user.queues || {}).some((q) => q.supervisor);
  }

  _watchTeam() {
    // A supervisor's component keeps the team view (CONTRACT §11): team() once, then each
    // team.changed push amends it (pushes sent before the answer are older than it, and
    // are left out), and onTeamChange hears the whole view each time.
    this.team = null;
    if (!this.supervises()) return;
    this.connection.request("team", []).then((team) => {
      if (this.phase !== "READY") return;
      this.team = team;
      this.teamAt = Date.now() / 1000;
      this.fire("onTeamChange", team);
      this.changed();
    }).catch((err) => this.fire("onError", err));
  }

  _teamChanged(msg) {
    if (!this.team) return;
    const amend = (list, changed, key) => {
      const byKey = new Map(list.map((x) => [x[key], x]));
      for (const x of changed || []) byKey.set(x[key], x);
      return [...byKey.values()];
    };
    this.team = {
      queues: amend(this.team.queues, msg.queues, "queue_id"),
      agents: amend(this.team.agents, msg.agents, "id"),
    };
    this.teamAt = Date.now() / 1000;
    this.fire("onTeamChange", this.team);
  }

  _session(body) {
    const identifierBefore = this.identifier;
    this.identifier = body.identifier ?? null;
    this.line = body.line ?? null;
    if (body.ringingSound) this.ringingSound = this.carry.ringingSound || body.ringingSound;
    if (body.theme) this.theme = this.carry.theme || body.theme;
    this.reason = body.reason ?? null;
    this.acwUntil = body.acwUntil ?? null;
    this.statusSince = body.statusSince ?? null;
    if (this.identifier && this.identifier !== identifierBefore) {
      this.fire("onIdentifier", this.identifier);
    }
    this._enter(body.state);
    this._carryInto(body);
  }

  _carryInto(body) {
    // The server takes the theme in any state of a session, the ringtone in READY only.
    const carried = [["theme", "setTheme", true], ["ringingSound", "selectRingingSound", body.state === "READY"]];
    for (const [key, method, now] of carried) {
      const value = this.carry[key];
      if (!value || !now || !body.state || body.state === "CREDENTIALS" || this.carrying === key) continue;
      if (body[key] === value) {
        delete this.carry[key];
        continue;
      }
      this.carrying = key;
      this.connection.request(method, [value]).then(
        () => { if (this.carry[key] === value) delete this.carry[key]; },
        (err) => this.fire("onError", err),
      ).finally(() => { this.carrying = null; });
    }
  }

  /** A call the agent placed ended without connecting: say why, in the card and the bar. */
  _outcome(call, before) {
    const key = outcomeOf(call, before);
    if (!key || this.config.headless) return;
    this.outcomes.add(call, key);
    const values = { number: call.number || call.called_number || "" };
    this.say((lang) => fill(t(lang, `outcomeNote.${key}`), values), "warning", `outcomeNote.${key}`, 8000, "READY", "outcome");
  }

  /** A call the agent talked on ended: kept for wrap-up when its queue has a list of codes
   * (the server takes codes for it a while yet: `setAccountCode` on a call kept for wrap-up). */
  _wrapup(call, before, choices) {
    const talked = call.connected && before && !ringsHere(before);
    if (!talked || !choices || !Array.isArray(choices.codes) || !choices.codes.length) return;
    this.wrapups.set(call.uniqueid, { call: before, choices });
  }

  dismissWrapup(uniqueid) {
    if (this.wrapups.delete(uniqueid)) this.changed();
  }

  _welcome(snapshot) {
    this.user = snapshot.user;
    this.userAt = Date.now();
    this.queues = snapshot.queues || [];
    this.reasons = snapshot.reasons || [];
    this.calls = new Map((snapshot.calls || []).map((c) => [c.uniqueid, c]));
    this.dispositions = new Map(Object.entries(snapshot.dispositions || {}));
    this.recording = new Set(Array.isArray(snapshot.recording) ? snapshot.recording : []);
    if (!this.userKnown) this.fire("onUser", this.user); // once a login, not on every resume
    this.userKnown = true;
    if (snapshot.session) this._session(snapshot.session);
    this._monitoring(snapshot.monitoring || null);
    this._playAgain(Array.isArray(snapshot.coach) ? snapshot.coach : []);
  }

  /** A reloaded tab that played a connected call's audio plays it again, and the coach of a
   * supervisor whispering on it (the snapshot's `coach`); calls gone meanwhile are forgotten. */
  _playAgain(coached) {
    for (const uid of this.softphone.playedHere()) {
      const call = this.calls.get(uid);
      if (!call || call.state !== 3 || this.identifier !== SOFTPHONE) {
        if (!call) this.softphone.hangup(uid);
        continue;
      }
      const parties = coached.includes(uid) ? ["agent", "coach"] : ["agent"];
      const join = async () => {
        for (const party of parties) {
          const key = party === "coach" ? `${uid}#coach` : uid;
          if (!this.softphone.calls.has(key)) await this.softphone.connect(uid, party);
        }
      };
      join().catch((err) => this.fire("onError", err.code ? err : error("MEDIA_UNAVAILABLE", String(err))));
    }
  }

  /** A supervisor's listen, whisper or barge as the snapshot says it: shown, and its audio
   * joined in this tab when it has none of it (a reload, a new tab); ended while away, gone. */
  _monitoring(m) {
    const was = this.monitoring;
    this.monitoring = m ? { uniqueid: m.uniqueid, userId: m.userId, mode: m.mode } : null;
    if (was && (!m || was.uniqueid !== m.uniqueid)) {
      this.softphone.hangup(was.uniqueid);
      this.softphone.hangup(`${was.uniqueid}#coach`);
    }
    if (m && m.mode !== "whisper") this.softphone.hangup(`${m.uniqueid}#coach`);
    if (m && this.identifier === SOFTPHONE) this._joinMonitoring(m);
  }

  _joinMonitoring(m) {
    for (const [party, key] of [["supervisor", m.uniqueid], ["coach", `${m.uniqueid}#coach`]]) {
      if (party === "coach" && m.mode !== "whisper") continue;
      if (this.softphone.calls.has(key)) continue;
      // The coach connection carries the supervisor's voice; what it brings back (a desk
      // phone's agent and the caller, bridged into the coach room) is heard on the first.
      this.softphone.connect(m.uniqueid, party, party !== "coach").catch((err) => {
        this.fire("onError", err.code ? err : error("MEDIA_UNAVAILABLE", String(err)));
        this.notify(err.message || String(err), "error", true, 20000, "READY", "media");
      });
    }
  }

  _loggedOut() {
    const was = this.phase !== "CREDENTIALS" && this.phase !== null;
    this.user = null;
    this.userKnown = false;
    this.calls = new Map();
    this.dispositions = new Map();
    this.outcomes.clear();
    this.wrapups.clear();
    this.recording = new Set();
    this.monitoring = null;
    this.identifier = null;
    this.line = null;
    this.reason = null;
    this.softphone.stop();
    this.forget();
    // The page keeps looking and ringing as it did: the next login carries these choices.
    if (this.theme !== "default") this.carry.theme = this.theme;
    if (this.ringingSound !== "default") this.carry.ringingSound = this.ringingSound;
    if (was) this.fire("onLogout");
    this._enter("CREDENTIALS");
  }

  // --- protocol ------------------------------------------------------------------------------

  _status(status) {
    if (status === "open") {
      const first = !this.connected;
      this.connected = true;
      if (first) {
        this.fire("onConnect");
        if (!this.connection.session) this._enter("CREDENTIALS");
      }
    } else if (status === "lost") {
      this.connected = false;
      this.trouble = true;
      this.fire("onError", error("CONNECTION_LOST", "the connection to the server was lost"));
    } else if (status === "unreachable" && !this.trouble) {
      this.trouble = true;
      console.error(
        `ucs: cannot connect to ${this.urls.ws}: check that the ucs server runs there, that ` +
          "window.ucsOperator.api ({hostname, port, path, secure}) names it when the script " +
          "comes from elsewhere, and that UCS_ALLOWED_ORIGINS on the server lists " +
          `${window.location.origin}`,
      );
      this.fire("onError", error("CONNECTION_LOST", "the server cannot be reached"));
    }
    this.changed();
  }

  _event(msg) {
    switch (msg.type) {
      case "hello":
        break;
      case "session.joined":
        this._welcome(msg);
        if (this.phase === "READY") this._watchTeam(); // pushes may have been missed
        break;
      case "session.ended":
        this._loggedOut();
        if (msg.by && typeof msg.by.displayname === "string") {
          const values = { name: msg.by.displayname };
          this.say((lang) => fill(t(lang, "loggedOutBy"), values), "warning", "loggedOutBy", 20000, "CREDENTIALS", "server");
        }
        break;
      case "team.changed":
        this._teamChanged(msg);
        break;
      case "supervisor.acted":
        // A supervisor set this agent's status (setAgentStatus): the agent is told who did it.
        if (msg.by && typeof msg.by.displayname === "string") {
          const name = msg.by.displayname;
          const status = (lang) => t(lang, msg.status) + (msg.reason ? ` · ${msg.reason}` : "");
          this.say((lang) => fill(t(lang, "statusSetBy"), { name, status: status(lang) }),
            "info", "statusSetBy", 20000, "READY", "server");
        }
        break;
      case "monitor.changed": // listen(), barge(), or the end of it (mode null)
        if (msg.mode) this.monitoring = { uniqueid: msg.uniqueid, userId: msg.userId, mode: msg.mode };
        else {
          if (this.monitoring && this.monitoring.uniqueid === msg.uniqueid) this.monitoring = null;
          this.softphone.hangup(msg.uniqueid);
        }
        if (msg.mode !== "whisper") this.softphone.hangup(`${msg.uniqueid}#coach`);
        this.changed();
        break;
      case "monitor.coach": // a supervisor whispers to this agent: the tab with the call's audio hears it
        if (!msg.on) this.softphone.hangup(`${msg.uniqueid}#coach`);
        else if (this.softphone.calls.has(msg.uniqueid)) {
          this.softphone.connect(msg.uniqueid, "coach").catch((err) => {
            this.fire("onError", err.code ? err : error("MEDIA_UNAVAILABLE", String(err)));
          });
        }
        break;
      case "call.recording": // startRecording() / stopRecording(), or a queue that records always
        if (msg.recording) this.recording.add(msg.uniqueid);
        else this.recording.delete(msg.uniqueid);
        this.changed();
        break;
      case "session.changed":
        this._session(msg);
        this.fire("onStateChange", this.stateObject());
        break;
      case "reasons.changed": // the administrator changed the AUX reasons
        this.reasons = Array.isArray(msg.reasons) ? msg.reasons : [];
        if (this.phase === "READY") this.fire("onStateChange", this.stateObject());
        break;
      case "user.changed":
        this.user = msg.user;
        this.userAt = Date.now();
        if (this.phase === "READY") this.fire("onStateChange", this.stateObject());
        break;
      case "call.changed": {
        const call = msg.call;
        if (msg.what === "hangup") {
          this._outcome(call, this.calls.get(call.uniqueid));
          this._wrapup(call, this.calls.get(call.uniqueid), this.dispositions.get(call.uniqueid));
          this.calls.delete(call.uniqueid);
          this.dispositions.delete(call.uniqueid);
          this.recording.delete(call.uniqueid);
          this.softphone.hangup(`${call.uniqueid}#coach`);
          this.softphone.hangup(call.uniqueid);
        }
        else {
          if (!this.calls.has(call.uniqueid)) { // a new call: old news go
            this.outcomes.clear();
            this.wrapups.clear();
          }
          this.calls.set(call.uniqueid, call);
          if (msg.dispositions) this.dispositions.set(call.uniqueid, msg.dispositions);
        }
        if (msg.what === "ringing") {
          this.fire("onCallRinging", call);
          this._autoOpen(call);
        } else if (msg.what === "connect") this.fire("onCallConnect", call);
        else if (msg.what === "hangup") this.fire("onCallHangup", call);
        this.fire("onCall", call);
        this.fire("onStateChange", this.stateObject());
        break;
      }
      case "error":
        // Not the answer to a request: something the agent must know (a phone that is not
        // registered, a switch that could not hold a call). The integrator hears it, and the
        // component shows it for 20 s (or until dismissed).
        this.fire("onError", error(msg.code, msg.message));
        if (msg.reason === "unregistered" && typeof msg.identifier === "string") {
          const values = { identifier: msg.identifier };
          this.say((lang) => fill(t(lang, "unregistered"), values), "error", "unregistered", 20000, "READY", "server");
        } else if (typeof msg.message === "string" && msg.message) {
          this.say((lang) => errorText(lang, msg.code, msg.message), "error", `error.${msg.code}.${msg.message}`, 20000, "READY", "server");
        }
        break;
      default:
        return;
    }
    this.changed();
  }

  _autoOpen(call) {
    // Only for an incoming call, only an http(s) page, and only from the tab the agent sees
    // (every tab of the session hears the same ring).
    const url = call.data && call.data.crmUrl;
    if (!this.config.crmAutoOpen || call.direction !== "INCOMING" || typeof url !== "string") return;
    if (document.visibilityState !== "visible" || !/^https?:\/\//i.test(url)) return;
    window.open(url, "_blank", "noopener");
  }

  // --- remembering the login -----------------------------------------------------------------

  remember(token) {
    try {
      window.localStorage.setItem(this.storageKey, token);
    } catch (err) {
      /* storage may be blocked in a third-party frame: remembering is then not possible */
    }
  }

  remembered() {
    try {
      return window.localStorage.getItem(this.storageKey);
    } catch (err) {
      return null;
    }
  }

  forget() {
    try {
      window.localStorage.removeItem(this.storageKey);
    } catch (err) {
      /* nothing remembered */
    }
  }

  // --- the API -------------------------------------------------------------------------------

  allowed(method) {
    const states = METHODS[method];
    if (!states.includes(this.phase || "CREDENTIALS")) {
      throw error(
        "INVALID_STATE",
        `${method} is not allowed in ${this.phase} (only in ${states.join(", ")})`,
      );
    }
  }

  async call(name, ...args) {
    const method = ALIASES[name] || name;
    if (!(method in METHODS)) throw error("INVALID_ARGUMENT", `unknown method ${name}`);
    this.allowed(method);
    while (args.length && args[args.length - 1] === undefined) args.pop();
    switch (method) {
      case "notify":
        return this.notify(...args);
      case "setTheme":
        return this.setTheme(args[0]);
      case "testRingingSound":
        this.testing = true;
        this.ringer.play(this.ringingSound, { once: true, done: () => { this.testing = false; } });
        return undefined;
      case "stopRingingSoundTest":
        this.testing = false;
        this.ringer.stop();
        this._ringing();
        return undefined;
      case "state":
        return this.stateObject();
      case "selectRingingSound":
        delete this.carry.ringingSound; // chosen in the session: nothing before it is left
        break;
      default:
        break;
    }
    if (method === "provision" && this.identifier === SOFTPHONE) {
      await this.softphone.start(); // refused or absent: MEDIA_UNAVAILABLE, still in DEVICE
    }
    const result = await this.connection.request(method, args.map((a) => (a === undefined ? null : a)));
    return this._after(method, args, result);
  }

  _after(method, args, result) {
    switch (method) {
      case "login":
      case "sso": {
        this.connection.session = result.token;
        if (typeof result.seq === "number") this.connection.seq = result.seq;
        if (method === "login" && args[2] === true) this.remember(result.token);
        this._welcome(result);
        this.changed();
        return result.user;
      }
      case "logout":
        this.connection.session = null;
        this._loggedOut();
        this.changed();
        return undefined;
      case "selectIdentifier":
        return result.identifier;
      case "identify":
        this.softphone.stop();
        return undefined;
      case "answer":
      case "dial":
        // The audio plays in this tab, the one that answered (or dialled).
        if (this.identifier === SOFTPHONE && result && typeof result.uniqueid === "string") {
          this.softphone.connect(result.uniqueid).catch((err) => {
            this.fire("onError", err.code ? err : error("MEDIA_UNAVAILABLE", String(err)));
            this.notify(err.message || String(err), "error", true, 20000, "READY", "media");
          });
        }
        return result;
      case "listen":
      case "whisper":
      case "barge":
        // The supervisor's browser joins the call's audio (once: another mode is the server's);
        // a supervisor on a desk phone is called on it by the server instead.
        this.monitoring = result;
        if (this.identifier === SOFTPHONE) this._joinMonitoring(result);
        this.changed();
        return result;
      case "provision":
        return result;
      default:
        return result;
    }
  }

  /** A note of the component's own, said again in the other language when the agent switches
   * (``render(lang)`` gives its whole text); ``key``: the note it replaces, the same note of
   * other values (``null``: none); the rest as ``notify``'s. */
  say(render, type, key, timeout, boundState, group = null) {
    if (key) this.notifications = this.notifications.filter((n) => n.key !== key);
    const id = this.notify(render(this.lang), type, false, timeout, boundState, group);
    const note = this.notifications.find((n) => n.id === id);
    if (note) Object.assign(note, { render, key });
    return id;
  }

  /** The language changed: the component's own notes say the same in it. */
  retranslate() {
    for (const n of this.notifications) if (n.render) n.title = n.text = n.render(this.lang);
  }

  notify(title, type = "info", unique = false, timeout = null, boundState = null, group = null, other = {}) {
    if (typeof title !== "string" || !title) throw error("INVALID_ARGUMENT", "notify needs a title");
    if (!["error", "warning", "success", "info"].includes(type)) {
      throw error("INVALID_ARGUMENT", `type must be error, warning, success or info; got ${type}`);
    }
    const values = (other && other.values) || {};
    const text = fill(title, values);
    if (unique) this.notifications = this.notifications.filter((n) => n.title !== title);
    const note = { id: `n${Date.now()}${Math.random().toString(16).slice(2, 6)}`, title, text, type,
      boundState: boundState || null, group: group || null, timeout };
    this.notifications.push(note);
    if (typeof timeout === "number" && timeout > 0) {
      note.timer = setTimeout(() => this.dismiss(note.id), timeout);
    }
    if (this.notifications.length > 50) this.notifications.shift(); // never pile up
    this.changed();
    return note.id;
  }

  dismiss(id) {
    for (const n of this.notifications) if (n.id === id) clearTimeout(n.timer);
    this.notifications = this.notifications.filter((n) => n.id !== id);
    this.changed();
  }

  async setTheme(theme) {
    if (!THEMES.includes(theme)) {
      throw error("INVALID_ARGUMENT", `theme must be one of ${THEMES.join(", ")}; got ${theme}`);
    }
    this.theme = theme;
    this.changed();
    if (!this.phase || this.phase === "CREDENTIALS") {
      this.carry.theme = theme; // made before login: the session takes it at login
    } else {
      delete this.carry.theme; // chosen in the session: nothing from before login is left
      await this.connection.request("setTheme", [theme]); // shared by the session's tabs
    }
    return theme;
  }

  _ringing() {
    if (this.config.headless) return;
    const ringing = [...this.calls.values()].some(ringsHere);
    if (ringing && this.ringer.playing !== this.ringingSound) this.ringer.play(this.ringingSound);
    else if (!ringing && this.ringer.playing && !this.testing) this.ringer.stop();
  }

  start() {
    if (this.config.autologin) {
      const token = this.remembered();
      if (token) this.connection.session = token;
    }
    this.connection.connect();
  }
}

export function boot(api, base) {
  if (api.__ucs) return api.__ucs; // loaded twice: one component
  const controller = new Controller(api, base);
  Object.defineProperty(api, "__ucs", { value: controller, enumerable: false });
  for (const name of [...Object.keys(METHODS), ...Object.keys(ALIASES)]) {
    if (name === "state") continue;
    api[name] = (...args) => {
      try {
        return controller.call(name, ...args);
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  api.state = () => {
    controller.allowed("state");
    return controller.stateObject();
  };
  api.on = (name, fn) => controller.listeners.add(name, fn);
  if (!api.headless) {
    // Tried again after a failed load, as operator.js does (a network change fails requests).
    const retries = [250, 1000, 3000];
    const load = (attempt) => import(new URL("ucs-element.js", base).href).then(
      (module) => module.mount(controller, api.renderTo || "app"),
      (err) => {
        if (attempt >= retries.length) console.error("ucs: the interface did not load", err);
        else setTimeout(() => load(attempt + 1), retries[attempt]);
      },
    ).catch((err) => console.error("ucs: the interface did not load", err));
    load(0);
  }
  controller.start();
  return controller;
}

export { CALLBACKS, RINGING_SOUNDS };
