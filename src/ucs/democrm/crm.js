// The demo CRM: what an integrator writes around the operator component.
const CONTACTS = [
  { name: "Jan Novák", company: "Novák & syn", phone: "+420601123456" },
  { name: "Eva Dvořáková", company: "Pekárna U Mostu", phone: "+420602234567" },
  { name: "Petr Svoboda", company: "Svoboda Logistics", phone: "+420603345678" },
  { name: "Busy line (test)", company: "—", phone: "+420601000001" },
  { name: "Nobody answers (test)", company: "—", phone: "+420601000002" },
  { name: "Agent 2 (extension)", company: "Acme", phone: "1002" },
];

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

function screenPop(call) {
  const who = CONTACTS.find((c) => c.phone === call.caller_number_norm || c.phone === call.caller_number);
  const box = document.getElementById("screen-pop");
  box.hidden = false;
  document.getElementById("pop-body").innerHTML = who
    ? `<b>${who.name}</b>, ${who.company}<br>${call.caller_number}`
    : `Unknown caller ${call.caller_name || ""} ${call.caller_number}`;
}

const callbacks = {};
for (const name of ["onConnect", "onCredentials", "onUser", "onIdentify", "onIdentifier", "onDevice",
  "onReady", "onStateChange", "onCallRinging", "onCallConnect", "onCallHangup", "onCall", "onLogout", "onError"]) {
  callbacks[name] = (...args) => log(name, args);
}

window.ucsOperator = {
  renderTo: "operator",
  lang: navigator.language && navigator.language.startsWith("cs") ? "cs" : "en",
  listDevices: true,
  autologin: true,
  ...callbacks,
  onCallRinging(call) {
    log("onCallRinging", [call]);
    if (call.direction === "INCOMING") screenPop(call); // an outgoing call rings too: no pop
  },
  onCallHangup(call) { log("onCallHangup", [call]); document.getElementById("screen-pop").hidden = true; },
  onStateChange(state) {
    document.getElementById("status-now").textContent =
      state.user ? `${state.user.status}${state.call ? ` · call ${state.call.state}` : ""}` : "–";
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

document.getElementById("clear-log").onclick = () => { document.getElementById("log").innerHTML = ""; };

const body = document.querySelector("#contacts tbody");
for (const c of CONTACTS) {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td>${c.name}</td><td>${c.company}</td><td><a class="dial" href="#">${c.phone}</a></td>`;
  tr.querySelector("a").onclick = (e) => {
    e.preventDefault();
    window.ucsOperator.dial(c.phone).catch((err) => log("dial failed", [err.code, err.message]));
  };
  body.appendChild(tr);
}
