// The agent's desk laid out for any width: one column in a sidebar or on a phone (360 px and
// up, nothing cut), two when the component has room (760 px and up); call cards coloured by
// state; small icons on the call buttons (decorative: the words stay).

export const LAYOUT_STYLE = `
[hidden] { display: none !important; }
.root { container-type: inline-size; max-width: 1180px; }
main > .card { max-width: 480px; } /* login, phone, confirmation: a form's width */
.desk-cols { display: grid; grid-template-columns: 1fr; gap: 0 12px; align-items: start; }
@container (min-width: 760px) { .desk-cols { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } }
.status-line { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 8px; }
.status-line .pill { white-space: normal; }
.row > select, .row > input { min-width: 0; }
.dial-row > input { flex: 1 1 15em; } .dial-row > select { flex: 1 1 8em; }
.codes > select, .codes > input { flex: 1 1 12em; } .codes > button { flex: 0 0 auto; }
.settings-row { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; }
.settings-row > label { flex: 1 1 10em; margin: 0; }
.settings-row > label select { margin-top: 4px; font-size: 14px; color: var(--text); }
.call { border-left: 4px solid var(--line); }
.call.st-1 { border-left-color: var(--solid); } .call.st-2 { border-left-color: var(--warn); }
.call.st-3 { border-left-color: var(--ok); } .call.st-4 { border-left-color: var(--solid); }
.call.st-5 { border-left-color: var(--hold); } .call.ended { border-left-color: var(--bad); }
button .icon { width: 14px; height: 14px; vertical-align: -2px; margin-right: 5px; fill: currentColor; }
.keypad-toggle { margin-top: 8px; }
.last-phone { width: 100%; margin-bottom: 10px; }
`;

const PATHS = {
  phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
  hangup: "M12 9c-1.6 0-3.15.25-4.6.72v3.1a1 1 0 0 1-.56.9 11.5 11.5 0 0 0-2.66 1.85 1 1 0 0 1-1.4 0L.29 13.08a1 1 0 0 1 0-1.41A16.9 16.9 0 0 1 12 7c4.5 0 8.6 1.75 11.7 4.67a1 1 0 0 1 0 1.41l-2.48 2.49a1 1 0 0 1-1.4 0 11.3 11.3 0 0 0-2.67-1.85 1 1 0 0 1-.56-.9v-3.1A15 15 0 0 0 12 9z",
  hold: "M6 5h4v14H6zM14 5h4v14h-4z",
  mute: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z",
};

/** A small decorative icon for a button (hidden from screen readers). */
export function icon(name) {
  const d = PATHS[name];
  return d ? `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${d}"/></svg>` : "";
}

const PHONE_KEY = "ucsOperator:phone:"; // + the user's id: the phone they last started work on

export function lastPhone(userId) {
  try { return userId ? localStorage.getItem(PHONE_KEY + userId) : null; } catch { return null; }
}

export function rememberPhone(userId, identifier) {
  try { if (userId && identifier) localStorage.setItem(PHONE_KEY + userId, identifier); } catch { /* not kept */ }
}
