// Calls as the component sees them: the states as the server numbers them (CallState in
// ucs/core/model.py), and the call the agent's buttons act on, chosen as the server's
// CallBook.focus chooses it (tests/test_widget_table.py keeps both equal to the server's).

export const CALL_STATE = Object.freeze({
  NEW: 0, // just created
  CONNECTING: 1, // dialling, or waiting in a queue
  RINGING: 2, // a phone rings
  CONNECTED: 3, // the parties talk
  SUSPENDED: 4, // the caller waits while the agent consults about a transfer
  HELD: 5, // on hold
});

// Talking, then dialling, then ringing, then the waiting caller of a transfer, then held;
// the newest first among equals. `calls` are Call objects as the agent sees them.
export function focusOf(calls) {
  const rank = (c) => {
    if (c.state === CALL_STATE.CONNECTED) return 0;
    if (c.direction === "OUTGOING" && c.state <= CALL_STATE.RINGING) return 1;
    if (c.state === CALL_STATE.RINGING) return 2;
    if (c.state === CALL_STATE.SUSPENDED) return 3;
    return 4;
  };
  const sorted = [...calls].sort((a, b) => rank(a) - rank(b) || b.created - a.created);
  return sorted[0] || null;
}

// The call rings the agent: an incoming call ringing, or a callback request offered to the
// agent (CONTRACT §12: OUTGOING with data.callback, and offered, so subcalls > 0, until the
// agent's answer() makes the server dial the number).
export function ringsHere(call) {
  if (call.state !== CALL_STATE.RINGING) return false;
  if (call.direction === "INCOMING") return true;
  return Boolean(call.data && call.data.callback === true && call.subcalls > 0);
}
