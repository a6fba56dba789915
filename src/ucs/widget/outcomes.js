// What became of a call the agent placed that never connected: busy, no answer, rejected or an
// invalid number (the Call's `cause`, CONTRACT §6-7). The component shows it in the call's card,
// kept after the call ended until the agent closes it or another call starts, and for a few
// seconds in the notification bar, in the agent's language.

import { ringsHere } from "./calls.js";

// cause -> the key of its words in i18n.js (`outcome.<key>` in the card, `outcomeNote.<key>`
// in the notification bar).
export const OUTCOMES = Object.freeze({ 1: "busy", 2: "invalidNumber", 5: "rejected", 6: "noAnswer" });

// The outcome of `ended` (the Call object of its hangup), given what the agent saw of it
// before (`before`, or undefined): null when there is nothing to tell (it connected, the agent
// did not place it, or it was an offer the agent let go).
export function outcomeOf(ended, before) {
  if (!ended || ended.direction !== "OUTGOING" || ended.connected) return null;
  if (before && ringsHere(before)) return null; // a callback offer the agent did not take
  return OUTCOMES[ended.cause] || null;
}

// The ended calls whose outcome is still shown, oldest first.
export class Outcomes {
  constructor(onchange) {
    this.shown = new Map(); // uniqueid -> {call, key}
    this.onchange = onchange;
  }

  add(call, key) {
    this.shown.set(call.uniqueid, { call, key });
  }

  dismiss(uniqueid) {
    if (this.shown.delete(uniqueid)) this.onchange();
  }

  /** Forget them all (another call started, or the agent logged out). */
  clear() {
    this.shown.clear();
  }

  list() {
    return [...this.shown.values()];
  }
}
