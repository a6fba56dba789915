// The operator protocol (docs/protocol.md): one WebSocket, requests with ids, sequenced
// events, resume after a reconnect. The Python SDK speaks the same protocol.
// A node of a cluster that does not run the agent's partition hands the connection on
// (docs/protocol.md, "Hand-off"): it connects where it is told, and back at its first address
// when that node is gone.

const BACKOFF_MAX = 5000;
const HOPS = 4; // hand-offs in a row taken at once; more wait as a reconnect does

// The WebSocket URL of a node's advertised http(s) URL; null for anything else.
function socketOf(url) {
  if (typeof url !== "string" || url.length > 2048 || !/^https?:\/\//.test(url)) return null;
  let parsed;
  try {
    parsed = new URL(url);
  } catch (error) {
    return null;
  }
  parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
  parsed.pathname = parsed.pathname.replace(/\/+$/, "") + "/ws";
  parsed.search = "";
  parsed.hash = "";
  return parsed.toString();
}

export class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "UcsError";
    this.code = code;
  }
}

export class Connection {
  constructor(url, { onEvent, onStatus, timeout = 15000 } = {}) {
    this.home = url; // the address the component was given
    this.url = url; // where it connects: a node it was handed on to, or home
    this.hops = 0;
    this.moving = false;
    this.onEvent = onEvent || (() => {});
    this.onStatus = onStatus || (() => {});
    this.timeout = timeout;
    this.session = null; // token to resume with
    this.seq = 0;
    this.pending = new Map(); // id -> {message, resolve, reject, timer}
    this.nextId = 1;
    // Ids unique to this page: the server answers a repeated id from memory (a retry), and a
    // reloaded page or another tab may resume the same session.
    this.prefix = Math.random().toString(36).slice(2, 10);
    this.ws = null;
    this.open = false;
    this.closing = false;
    this.delay = 500;
    this.waiters = [];
  }

  connect() {
    this.closing = false;
    this._dial();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  _dial() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this._retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello = { v: 1, type: "hello" };
      if (this.session) hello.resume = { session: this.session, seq: this.seq };
      ws.send(JSON.stringify(hello));
      for (const pending of this.pending.values()) ws.send(pending.message);
      this.open = true;
      this.delay = 500;
      this.onStatus("open");
      for (const resolve of this.waiters.splice(0)) resolve();
    };
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      this._receive(msg);
    };
    ws.onclose = () => {
      const was = this.open;
      this.open = false;
      this.ws = null;
      if (this.closing) return;
      if (this.moving) { // a hand-off: straight to the node named, unnoticed
        this.moving = false;
        if (this.url !== this.home && this.hops <= HOPS) this._dial();
        else this._retry();
        return;
      }
      if (!was) this.url = this.home; // the node handed on to is gone: back to the first address
      this.onStatus(was ? "lost" : "unreachable");
      this._retry();
    };
    ws.onerror = () => {};
  }

  _retry() {
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, BACKOFF_MAX);
    setTimeout(() => { if (!this.closing) this._dial(); }, delay + Math.random() * 250);
  }

  _move(url) {
    this.url = socketOf(url) || this.home;
    this.hops += 1;
    this.moving = true;
    if (this.ws) this.ws.close();
  }

  _receive(msg) {
    if (msg.type === "error" && msg.code === "MOVED" && this.pending.has(String(msg.id))) {
      this._move(msg.url); // the request waits, and is sent again there
      return;
    }
    if (msg.type === "hello" && !msg.resumed && "partition" in msg) {
      this._move(msg.url);
      return;
    }
    // A node's answer after it handed the connection on: the request is asked again there.
    if (this.moving && (msg.type === "result" || msg.type === "error")) return;
    if (msg.type === "result" || msg.type === "error" || (msg.type === "hello" && msg.resumed)) {
      this.hops = 0;
    }
    if ((msg.type === "result" || msg.type === "error") && msg.id !== undefined) {
      const pending = this.pending.get(String(msg.id));
      if (!pending) return;
      this.pending.delete(String(msg.id));
      clearTimeout(pending.timer);
      if (msg.type === "result") pending.resolve(msg.result);
      else pending.reject(new ProtocolError(msg.code, msg.message));
      return;
    }
    if (msg.type === "hello") {
      if (!msg.resumed) this.seq = 0;
      else if (typeof msg.seq === "number" && msg.seq < this.seq) this.seq = msg.seq;
      this.onEvent(msg);
      return;
    }
    if (typeof msg.seq === "number") {
      if (msg.seq <= this.seq) return; // seen before the reconnect
      this.seq = msg.seq;
    }
    if (msg.type === "session.ended") this.session = null;
    this.onEvent(msg);
  }

  request(method, args) {
    const id = `${this.prefix}-${this.nextId++}`;
    const message = JSON.stringify({ v: 1, type: "request", id, method, args });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError("UNAVAILABLE", "no answer from the server in time"));
      }, this.timeout);
      this.pending.set(id, { message, resolve, reject, timer });
      if (this.open && this.ws) this.ws.send(message);
    });
  }

  close() {
    this.closing = true;
    if (this.ws) this.ws.close();
  }
}
