// Telling the agent a call rings when their eyes are elsewhere: a spoken announcement for
// screen readers (an aria-live region), the page's title, and a desktop notification when the
// page is hidden and the agent allowed them. The ringing sound itself is sounds.js's.

import { ringsHere } from "./calls.js";

const MARK = "☎ ";

export class RingAlerts {
  constructor(live, tr) {
    this.live = live; // the element whose text a screen reader speaks (aria-live)
    this.tr = tr;
    this.known = new Set(); // uniqueids already announced as ringing
    this.title = null; // the page's own title while ours is shown
    this.notes = new Map(); // uniqueid -> desktop Notification
  }

  /** Ask for desktop notifications; call it from a click (browsers want a gesture). */
  static ask() {
    try {
      if (typeof Notification !== "undefined" && Notification.permission === "default") {
        Notification.requestPermission().catch(() => {});
      }
    } catch { /* no notifications here */ }
  }

  /** Say something to screen reader users now. */
  say(text) {
    this.live.textContent = "";
    // A change of text is what is spoken: set it on the next frame so the same words repeat.
    requestAnimationFrame(() => { this.live.textContent = text; });
  }

  /** The agent's calls changed: announce new ringing calls, keep the title, close what ended. */
  update(calls, describe) {
    const ringing = calls.filter(ringsHere);
    for (const call of ringing) {
      if (this.known.has(call.uniqueid)) continue;
      this.known.add(call.uniqueid);
      const text = describe(call);
      this.say(text);
      this.desktop(call, text);
    }
    const ids = new Set(ringing.map((c) => c.uniqueid));
    for (const uid of [...this.known]) if (!ids.has(uid)) this.known.delete(uid);
    for (const [uid, note] of this.notes) {
      if (!ids.has(uid)) { note.close(); this.notes.delete(uid); }
    }
    if (ringing.length) {
      if (this.title === null) this.title = document.title;
      document.title = MARK + describe(ringing[0]);
    } else this.restore();
  }

  desktop(call, text) {
    try {
      if (typeof Notification === "undefined" || Notification.permission !== "granted" || !document.hidden) return;
      const note = new Notification(this.tr("ringing"), { body: text, tag: `ucs-${call.uniqueid}` });
      note.onclick = () => { window.focus(); note.close(); };
      this.notes.set(call.uniqueid, note);
    } catch { /* a browser that refuses: the sound and the title still tell */ }
  }

  restore() {
    if (this.title !== null) {
      document.title = this.title;
      this.title = null;
    }
  }

  stop() {
    this.restore();
    for (const note of this.notes.values()) note.close();
    this.notes.clear();
    this.known.clear();
  }
}
