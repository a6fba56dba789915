// The demo CRM: what an integrator writes around the operator component. Its back end answers
// the server's caller lookups (/demo/crm/lookup): a ringing call comes with the caller's name,
// company and the contact's page (data.crmUrl, opened by crmAutoOpen).
let CONTACTS = [];

const log = (name, args) => {
  const li = document.createElement("li");
  const summary = args.map((a) => (a && typeof a === "object" ? JSON.stringify(a).slice(0, 140) : String(a))).join(", ");
  li.textContent = `${new Date().toLocaleTimeString()} ${name}(${summary})`;
  const list = document.getElementById("log");
  list.prepend(li);
};

async function ssoToken(user) {
  const r = await fetch(`/demo/crm/token/${encodeURIComponent(user)}`);
  return (await r.json()).token;
}

// What comes with a call (the caller's name and number, its data) is the outside world's: a
// trunk's SIP display name or a CRM lookup may carry markup. Put it in the page as text (DOM
// nodes and textContent), never as HTML: copy this page, copy that too.
function el(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function screenPop(call) {
  // What the server's lookup found (name, data.company), else the CRM's own contacts.
  const data = call.data && typeof call.data === "object" ? call.data : {};
  const known = CONTACTS.find((c) => c.phone === call.caller_number_norm || c.phone === call.caller_number);
  const who = call.name ? { name: call.name, company: data.company || "" } : known;
  const box = document.getElementById("screen-pop");
  box.hidden = false;
  const lines = [];
  if (who) {
    const head = el("div");
    head.append(el("b", who.name), who.company ? `, ${who.company}` : ""); // text, never HTML
    lines.push(head);
  } else {
    lines.push(el("div", `Unknown caller ${call.caller_name || ""}`.trim()));
  }
  lines.push(el("div", call.caller_number));
  const entries = Object.entries(data);
  if (entries.length) {
    const list = el("dl");
    for (const [key, value] of entries) {
      list.append(el("dt", key), el("dd", value && typeof value === "object" ? JSON.stringify(value) : value));
    }
    lines.push(list);
  }
  document.getElementById("pop-body").replaceChildren(...lines);
}

const callbacks = {};
for (const name of ["onConnect", "onCredentials", "onUser", "onIdentify", "onIdentifier", "onDevice",
  "onReady", "onStateChange", "onCallRinging", "onCallConnect", "onCallHangup", "onCall", "onLogout", "onError"]) {
  callbacks[name] = (...args) => log(name, args);
}

const STATUSES = { READY: "Ready", AUX: "Not ready", ACW: "After-call work", OFFLINE: "Offline" };
const CALL_STATES = { 0: "new call", 1: "dialling", 2: "ringing", 3: "on a call", 4: "caller waiting", 5: "on hold" };

window.ucsOperator = {
  renderTo: "operator",
  lang: ["cs", "en"].includes(new URLSearchParams(location.search).get("lang"))
    ? new URLSearchParams(location.search).get("lang")
    : navigator.language && navigator.language.startsWith("cs") ? "cs" : "en",
  listDevices: true,
  autologin: true,
  crmAutoOpen: true, // a ringing caller's contact page opens in a new tab
  ...callbacks,
  onCallRinging(call) {
    log("onCallRinging", [call]);
    if (call.direction === "INCOMING") screenPop(call); // an outgoing call rings too: no pop
  },
  onCallHangup(call) { log("onCallHangup", [call]); document.getElementById("screen-pop").hidden = true; },
  onStateChange(state) {
    // What the state object says, as a CRM would show it: the status (with its reason) and
    // the call in focus.
    const user = state.user;
    const reason = user && user.status === "AUX" && user.reason ? ` (${user.reason})` : "";
    const call = state.call ? ` · ${CALL_STATES[state.call.state] || "call"}` : "";
    document.getElementById("status-now").textContent = user ? `${STATUSES[user.status] || user.status}${reason}${call}` : "–";
  },
  onReady(state) { log("onReady", [state]); this.onStateChange(state); },
};

document.getElementById("sso").onclick = async () => {
  const user = document.getElementById("sso-user").value;
  try {
    await window.ucsOperator.sso(user, await ssoToken(user), "Acme CRM");
  } catch (err) {
    log("sso failed", [err.code, err.message]);
  }
};

for (const b of document.querySelectorAll("#status-buttons button")) {
  b.onclick = () => window.ucsOperator.changeStatus(b.dataset.status, b.dataset.reason)
    .catch((err) => log("changeStatus failed", [err.code, err.message]));
}

document.getElementById("ring-support").onclick = async () => {
  const r = await fetch("/demo/crm/ring", { method: "POST" });
  const body = await r.json();
  log("ring Support", [body.uniqueid, body.speaks ? "the caller speaks" : "a silent caller"]);
};

document.getElementById("clear-log").onclick = () => { document.getElementById("log").replaceChildren(); };

async function showContacts() {
  CONTACTS = await (await fetch("/demo/crm/contacts")).json();
  const body = document.querySelector("#contacts tbody");
  for (const c of CONTACTS) {
    const tr = document.createElement("tr");
    const link = el("a", c.phone);
    link.className = "dial";
    link.href = "#";
    const phone = el("td");
    phone.append(link);
    tr.append(el("td", c.name), el("td", c.company), phone);
    link.onclick = (e) => {
      e.preventDefault();
      window.ucsOperator.dial(c.phone).catch((err) => log("dial failed", [err.code, err.message]));
    };
    body.appendChild(tr);
  }
}

showContacts().catch((err) => log("contacts failed", [String(err)]));
