// The methods of window.ucsOperator and the component states they are allowed in
// (CONTRACT §5; the server's table is ucs/core/session.py and the two are kept equal by a test).

export const STATES = ["CREDENTIALS", "IDENTIFY", "DEVICE", "READY"];

const ANY = STATES;
const READY = ["READY"];

export const METHODS = {
  login: ["CREDENTIALS"],
  sso: ["CREDENTIALS"],
  logout: ["IDENTIFY", "DEVICE", "READY"],
  selectIdentifier: ["IDENTIFY", "DEVICE"],
  provision: ["IDENTIFY", "DEVICE"],
  identify: ["DEVICE", "READY"],
  changeStatus: READY,
  suspend: READY,
  resume: READY,
  answer: READY,
  dial: READY,
  hangup: READY,
  transfer: READY,
  finishTransfer: READY,
  blindTransfer: READY,
  hold: READY,
  unhold: READY,
  mute: READY,
  setAccountCode: READY,
  dispositions: READY,
  state: READY,
  selectRingingSound: READY,
  testRingingSound: READY,
  stopRingingSoundTest: READY,
  notify: ANY,
  setTheme: ANY,
  team: READY,
  directory: READY,
  setAgentStatus: READY,
  logoutAgent: READY,
  listen: READY,
  whisper: READY,
  barge: READY,
  startRecording: READY,
  stopRecording: READY,
};

export const ALIASES = {
  tribute: "hold",
  identifier: "selectIdentifier",
  identificator: "selectIdentifier",
};

export const RINGING_SOUNDS = ["default", "christmas", "lovingYou", "quest", "rush"];
export const THEMES = ["default", "dark"];
