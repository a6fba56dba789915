// The component as an ES module, for bundlers and module scripts (docs/api.md, "As an ES
// module"): the same component as operator.js, without a global script tag.
//
//   import { loadOperator } from "https://ucs.example.com/operator/operator.mjs";
//   const ucs = loadOperator({ renderTo: "operator", onReady(state) { … } });
//   ucs.on("callRinging", (call) => …);
//
// One component per page: loadOperator() called again returns the same object (its
// configuration is that of the first call). The object is also window.ucsOperator.

import { boot } from "./ucs-operator.js";
import { ALIASES, METHODS, RINGING_SOUNDS, STATES, THEMES } from "./methods.js";

export { ALIASES, METHODS, RINGING_SOUNDS, STATES, THEMES };

export function loadOperator(config = {}) {
  const api = window.ucsOperator || (window.ucsOperator = {});
  if (!api.__ucs) Object.assign(api, config);
  boot(api, new URL(".", import.meta.url));
  return api;
}

export default loadOperator;
