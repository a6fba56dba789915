// on(name, fn): listeners beside the callback properties (CONTRACT §5), so that several parts
// of a CRM page can each hear the component. `name` is a callback's name without "on"
// ("callRinging" for onCallRinging); on() returns the function that removes the listener.
// A listener that throws is logged and never stops the others or the component.

import { ProtocolError } from "./connection.js";

export class Listeners {
  constructor(callbacks) {
    this.byName = new Map(); // "onCallRinging" -> Set of functions
    this.names = callbacks.map((c) => c[2].toLowerCase() + c.slice(3)); // "callRinging"
    for (const callback of callbacks) this.byName.set(callback, new Set());
  }

  add(name, fn) {
    const property = typeof name === "string" && name ? `on${name[0].toUpperCase()}${name.slice(1)}` : "";
    if (!this.byName.has(property)) {
      throw new ProtocolError(
        "INVALID_ARGUMENT",
        `no event ${String(name)}: on() takes one of ${this.names.join(", ")}`,
      );
    }
    if (typeof fn !== "function") {
      throw new ProtocolError("INVALID_ARGUMENT", `on("${name}", fn) needs a function`);
    }
    // Each call adds its own listener (the same function twice is called twice, and each
    // unsubscribe removes its own): a wrapper keeps them apart.
    const listener = function (...args) { return fn.apply(this, args); };
    const set = this.byName.get(property);
    set.add(listener);
    return () => { set.delete(listener); };
  }

  fire(property, self, args) {
    const set = this.byName.get(property);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener.apply(self, args);
      } catch (err) {
        console.error(`ucs: a listener of ${property.slice(2)} failed`, err);
      }
    }
  }
}
