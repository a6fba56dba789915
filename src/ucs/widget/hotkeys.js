// Keyboard shortcuts for the call in focus, anywhere on the page (the agent's hands are often
// in the CRM): Alt+Shift+A answer, Alt+Shift+H hang up (or reject a ringing call), Alt+Shift+O
// hold or resume, Alt+Shift+M mute or unmute. Keys by position (`code`), so a Czech keyboard
// works as an English one. `hotkeys: false` in the configuration turns them off.

import { CALL_STATE, ringsHere } from "./calls.js";

export const HOTKEYS = Object.freeze({ KeyA: "answer", KeyH: "hangup", KeyO: "hold", KeyM: "mute" });

/** The method a key press asks for on `call` (the call in focus), or null. */
export function actionFor(event, call) {
  if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return null;
  const action = HOTKEYS[event.code];
  if (!action || !call) return null;
  if (action === "answer") return ringsHere(call) ? "answer" : null;
  if (action === "hold") {
    if (call.state === CALL_STATE.CONNECTED) return "hold";
    return call.state === CALL_STATE.HELD ? "unhold" : null;
  }
  if (action === "mute") return call.state === CALL_STATE.CONNECTED ? "mute" : null;
  return "hangup";
}

/** Listen on the page; returns the function that stops listening. */
export function listen(controller, act) {
  const onKey = (event) => {
    if (controller.phase !== "READY") return;
    const method = actionFor(event, controller.focus());
    if (!method) return;
    event.preventDefault();
    act(controller.api[method]());
  };
  document.addEventListener("keydown", onKey, true);
  return () => document.removeEventListener("keydown", onKey, true);
}
