// TypeScript declarations of the ucs operator component (docs/api.md), served at
// /operator/operator.d.ts. They describe window.ucsOperator (operator.js) and the ES-module
// entry operator.mjs. tests/browser/test_types.py keeps them equal to the component's method
// table, callbacks and objects, and compiles them with tsc --strict.

/** The component's state (not the agent's availability, which is `User.status`). */
export type ComponentState = "CREDENTIALS" | "IDENTIFY" | "DEVICE" | "READY";

/** The agent's availability. */
export type Status = "OFFLINE" | "READY" | "AUX" | "ACW";

/** 0 new, 1 connecting, 2 invitation (ringing), 3 connected, 4 suspended (the caller waits
 * during a transfer), 5 held. */
export type CallState = 0 | 1 | 2 | 3 | 4 | 5;

/** Why a call ended: -1 not yet, 0 unknown, 1 busy, 2 invalid number, 3 the caller hung up,
 * 4 the called party hung up, 5 rejected, 6 unavailable (no answer), 7 picked up elsewhere,
 * 8 transferred. */
export type Cause = -1 | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export type Direction = "INCOMING" | "OUTGOING";
export type PartyType = "line" | "trunk";
export type RingingSound = "default" | "christmas" | "lovingYou" | "quest" | "rush";
export type Theme = "default" | "dark";
export type NotificationType = "error" | "warning" | "success" | "info";

/** The `code` of every error the component rejects with or reports to `onError`. */
export type ErrorCode =
  | "INVALID_STATE" // the method is not allowed in this component state
  | "INVALID_ARGUMENT" // a missing, mistyped or out-of-range argument
  | "UNAUTHORIZED" // refused credentials or SSO token
  | "NOT_FOUND" // unknown queue, call, phone identifier or line
  | "TOO_MANY_ATTEMPTS" // too many failed logins for the username: wait
  | "STORAGE_UNAVAILABLE" // the server can keep no record just now: try again shortly
  | "FORBIDDEN" // the agent lacks the right (a supervisor action outside their team)
  | "MEDIA_UNAVAILABLE" // no microphone, permission refused, or no media engine
  | "TOO_MANY_CONNECTIONS" // the session has 50 connections already
  | "TOO_MANY_REQUESTS" // more than 50 requests a second from one page: not carried out
  | "INTERNAL_ERROR" // the server failed to carry out the request (a bug, logged there)
  | "UNAVAILABLE" // no answer from the server in time
  | "CONNECTION_LOST" // onError: the connection dropped or the server cannot be reached
  | "SWITCH_FAILURE" // onError: the telephone switch could not do what was asked
  | "ORIGIN_REFUSED" // onError: the server refuses this page's origin (UCS_ALLOWED_ORIGINS)
  | "SERVER_UNREACHABLE" // onError: the component could not load: no server there (4 tries)
  | "LOAD_FAILED"; // onError: the component could not load for another reason (4 tries)

/** What every refusal is: an Error with a code; `message` says what was wrong in words. */
export interface UcsError extends Error {
  readonly code: ErrorCode;
}

/** Unix time in seconds. */
export type Timestamp = number;

/** A call as the agent sees it: exactly the fields of the API document. */
export interface Call {
  /** Rotates in 1–65535: use `uniqueid` to tell calls apart. */
  id: number;
  /** Unique, never repeats. */
  uniqueid: string;
  direction: Direction;
  state: CallState;
  cause: Cause;
  created: Timestamp;
  connected: Timestamp | null;
  disconnected: Timestamp | null;
  /** The server's clock when the object was made. */
  now: Timestamp;
  /** The called number of an outgoing call, the caller's number of an incoming one. */
  number: string;
  /** The other party's name, when the server's lookup found one. */
  name: string | null;
  /** The CRM's id of the other party, from the lookup. */
  external_id: string | null;
  /** The campaign (outgoing queue) the call was dialled under. */
  outbound_id: number | null;
  /** Some of the call has been recorded (it stays true through a pause). */
  recorded: boolean;
  /** Phones rung at once for the call (ring-all queues). */
  subcalls: number;
  /** Call metadata: the lookup's data, `dial()`'s `data`, the simulator's. */
  data: Record<string, unknown>;
  called_name: string | null;
  called_number: string;
  called_number_norm: string | null;
  caller_channel: string | null;
  caller_extension: string | null;
  caller_group_id: number | null;
  caller_internal: boolean;
  caller_line_id: number | null;
  caller_muted: boolean;
  caller_name: string | null;
  caller_number: string;
  caller_number_norm: string | null;
  caller_type: PartyType;
  caller_user_id: number | null;
  caller_username: string | null;
  connected_channel: string | null;
  connected_group_id: number | null;
  connected_internal: boolean;
  connected_line_id: number | null;
  connected_muted: boolean;
  connected_name: string | null;
  /** Empty while nobody is connected. */
  connected_number: string;
  connected_number_norm: string | null;
  /** null while nobody is connected. */
  connected_type: PartyType | null;
  connected_user_id: number | null;
  connected_username: string | null;
}

/** The agent's membership of one queue, with today's figures in it. */
export interface Queue {
  queue_id: number;
  /** 1 incoming, 0 outgoing (a campaign). */
  type: 0 | 1;
  /** The agent's priority in the queue. */
  priorities: number;
  supervisor: boolean;
  suspended: boolean;
  team_id: number | null;
  answered: number;
  unanswered: number;
  ringtime: number;
  talktime: number;
  suspendtime: number;
  transferred: number;
  transferred_external: number;
}

/** One of the agent's phones. */
export interface Line {
  id: number;
  identifier: string;
  extension: string;
  name: string;
}

/** The logged-in agent, with today's statistics (seconds and counts). */
export interface User {
  id: number;
  status: Status;
  firstname: string;
  lastname: string;
  displayname: string;
  email: string;
  locale: string;
  number: string | null;
  external_id: string | null;
  group_id: number | null;
  primary_extension: number | null;
  superuser: boolean;
  data: Record<string, unknown>;
  lines: Line[];
  /** Keyed by queue id. */
  queues: Record<string, Queue>;
  readytime: number;
  idletime: number;
  acwtime: number;
  auxtime: number;
  /** Seconds per AUX reason. */
  auxtimes: Record<string, number>;
  ringtime: number;
  talktime: number;
  in_calls_answered: number;
  in_calls_unanswered: number;
  in_ringtime: number;
  in_talktime: number;
  out_calls_answered: number;
  out_calls_unanswered: number;
  out_ringtime: number;
  out_talktime: number;
  transferred: number;
  transferred_external: number;
}

/** The argument of onReady and onStateChange, and what state() returns. */
export interface StateObject {
  state: ComponentState;
  user: User | null;
  /** All of the agent's live calls. */
  calls: Call[];
  /** The call the buttons act on, or null. */
  call: Call | null;
  identifier: string | null;
  line: number | null;
  ringingSound: RingingSound;
  theme: Theme;
  /** The AUX reasons the agent may choose (changeStatus("AUX", reason)). */
  auxReasons: string[];
}

/** The argument of onDevice. */
export interface Device {
  identifier: string | null;
  line: number | null;
}

/** A call's account code as setAccountCode resolves them. */
export interface AccountCode {
  accountCode: string;
  subAccountCode: string | null;
  /** The code's label on the list of the call's queue when it came from it (absent for a
   * code of the agent's own). */
  label?: string;
}

/** One of the account codes a queue's calls may be given (its dispositions). */
export interface Disposition {
  accountCode: string;
  /** What the agent reads and picks. */
  label: string;
}

/** What dispositions(uniqueid) resolves to: the account codes a call may be given. */
export interface Dispositions {
  /** The queue whose list applies: the one the call came through, else the campaign it was
   * dialled under; null for a call of no queue. */
  queue: number | null;
  /** The queue's list, in order (empty: the queue has none). */
  codes: Disposition[];
  /** Codes not on the list are taken too (always true when the list is empty). */
  freeText: boolean;
}

export interface NotifyOptions {
  /** Values for the `{name}` marks in the title (filled in by name). */
  values?: Record<string, string | number>;
}

/** Where the server is, when not where the script came from. */
export interface ServerAddress {
  hostname?: string;
  port?: number | string;
  path?: string;
  secure?: boolean;
}

/** What the CRM page sets on window.ucsOperator before loading the component. */
export interface Config {
  /** Id of the element to render into (default "app"). */
  renderTo?: string;
  /** true: no interface, the API alone. */
  headless?: boolean;
  lang?: "en" | "cs";
  /** Log in with what login(…, true) remembered. */
  autologin?: boolean;
  api?: ServerAddress;
  /** The phone screen lists the agent's phones. */
  listDevices?: boolean;
  /** Default true: wait in DEVICE for provision(); false: provision at once. */
  confirmDevice?: boolean;
  /** Open call.data.crmUrl of a ringing incoming call in a new tab. */
  crmAutoOpen?: boolean;
  /** Default true: Alt+Shift+A answer, H hang up (reject), O hold/resume, M mute/unmute,
   * anywhere on the page; false turns them off. */
  hotkeys?: boolean;
  theme?: Theme;
  /** Default true: the softphone's microphone with echo cancellation, noise suppression and
   * gain control; false turns them off (steady test tones). */
  audioProcessing?: boolean;
}

/** The callback properties; each is called only when set. */
export interface Callbacks {
  onConnect?(): void;
  onCredentials?(): void;
  onUser?(user: User): void;
  onIdentify?(): void;
  onIdentifier?(identifier: string): void;
  onDevice?(device: Device): void;
  onReady?(state: StateObject): void;
  onStateChange?(state: StateObject): void;
  onCallRinging?(call: Call): void;
  onCallConnect?(call: Call): void;
  onCallHangup?(call: Call): void;
  onCall?(call: Call): void;
  onLogout?(): void;
  /** Supervisors: the whole team view (as team() gives it) each time any of it changes,
   * at most a few times a second. */
  onTeamChange?(team: Team): void;
  onError?(error: UcsError): void;
}

/** on(name, fn): the events and their arguments. */
export interface Events {
  connect: [];
  credentials: [];
  user: [user: User];
  identify: [];
  identifier: [identifier: string];
  device: [device: Device];
  ready: [state: StateObject];
  stateChange: [state: StateObject];
  callRinging: [call: Call];
  callConnect: [call: Call];
  callHangup: [call: Call];
  call: [call: Call];
  logout: [];
  error: [error: UcsError];
  teamChange: [team: Team];
}

/** The methods the component adds; every one returns a Promise but state(). */
export interface Methods {
  login(username: string, password: string, remember?: boolean): Promise<User>;
  sso(username: string, token: string, provider?: string): Promise<User>;
  logout(): Promise<void>;
  selectIdentifier(identifier: string): Promise<string>;
  /** The English document's name of selectIdentifier. */
  identifier(identifier: string): Promise<string>;
  /** Another name of selectIdentifier. */
  identificator(identifier: string): Promise<string>;
  provision(): Promise<StateObject>;
  identify(): Promise<void>;
  /** AUX needs one of `StateObject.auxReasons`; the others take no reason. */
  changeStatus(status: Status, reason?: string): Promise<User>;
  suspend(queue: number): Promise<Queue>;
  resume(queue: number): Promise<Queue>;
  answer(): Promise<Call>;
  /** `queue`: a campaign id, "directCall" or "undefined". */
  dial(
    number: string,
    queue?: number | "directCall" | "undefined" | null,
    line?: number | null,
    data?: Record<string, unknown> | null,
  ): Promise<Call>;
  hangup(): Promise<void>;
  transfer(number?: string): Promise<Call>;
  finishTransfer(): Promise<void>;
  blindTransfer(number: string): Promise<void>;
  hold(): Promise<Call>;
  /** The English document's name of hold. */
  tribute(): Promise<Call>;
  unhold(): Promise<Call>;
  mute(): Promise<Call>;
  setAccountCode(
    uniqueid: string,
    accountCode: string,
    subAccountCode?: string | null,
    override?: boolean,
  ): Promise<AccountCode[]>;
  /** The account codes one of the agent's calls (live, or ended and in wrap-up) may be given,
   * from its queue's list; setAccountCode refuses others with INVALID_ARGUMENT unless
   * `freeText`. NOT_FOUND: no such call of the agent's. */
  dispositions(uniqueid: string): Promise<Dispositions>;
  /** At once; throws an INVALID_STATE UcsError outside READY. */
  state(): StateObject;
  selectRingingSound(sound: RingingSound): Promise<RingingSound>;
  testRingingSound(): Promise<void>;
  stopRingingSoundTest(): Promise<void>;
  notify(
    title: string,
    type?: NotificationType,
    unique?: boolean,
    timeout?: number | null,
    boundState?: ComponentState | null,
    group?: string | null,
    other?: NotifyOptions,
  ): Promise<string>;
  setTheme(theme: Theme): Promise<Theme>;
  /** Supervisors (a supervisor of a queue, or a superuser): their queues with today's
   * figures and their agents, live. Others: FORBIDDEN. */
  team(): Promise<Team>;
  /** Supervisors: set the status of an agent of their team, who is told who did it.
   * NOT_FOUND: no such agent; FORBIDDEN: not in the team; INVALID_STATE: not logged in. */
  setAgentStatus(userId: number, status: Status, reason?: string): Promise<void>;
  /** Supervisors: log out an agent of their team (who has no call), who is told who did it. */
  logoutAgent(userId: number): Promise<void>;
  /** The transfer directory: every other agent with status and extension, and the incoming
   * queues with callers waiting; what the interface's number field offers to pick from. */
  directory(): Promise<Directory>;
  /** Supervisors: connect their softphone to the connected call of an agent of their team,
   * hearing both sides, heard by nobody; `barge()` is heard by both; calling another changes
   * the mode on the same monitoring, and `hangup()` ends it (the call goes on). A reloaded
   * tab shows the monitoring going on and joins its audio again. NOT_FOUND: no
   * such agent or no connected call; FORBIDDEN: not in the team; MEDIA_UNAVAILABLE: the
   * supervisor's phone or the agent's is not the softphone, or no media engine. */
  listen(userId: number): Promise<Monitoring>;
  /** Supervisors: heard by the agent only (the agent's component opens a second audio
   * connection for it); errors as listen(). */
  whisper(userId: number): Promise<Monitoring>;
  barge(userId: number): Promise<Monitoring>;
  /** Record the connected call in focus (its queue's `recording` is `on_demand` or `always`,
   * or it has no queue); after `stopRecording()` it goes on in the same recording. Resolves to
   * the call (`recorded` true). INVALID_STATE: no connected call; FORBIDDEN: its queue records
   * never; MEDIA_UNAVAILABLE: the call's audio is not in a media engine (a desk phone). */
  startRecording(): Promise<Call>;
  /** Pause the recording of the connected call in focus (a card number is read): the paused
   * stretch is silent in the recording. INVALID_STATE: no connected call. */
  stopRecording(): Promise<Call>;
  /** Add a listener beside the callback property; returns the function that removes it.
   * Throws an INVALID_ARGUMENT UcsError for an unknown name. */
  on<K extends keyof Events>(name: K, fn: (...args: Events[K]) => void): () => void;
}

/** What directory() resolves to. */
export interface Directory {
  agents: DirectoryAgent[];
  queues: DirectoryQueue[];
}

/** Another agent, as the transfer directory shows them. */
export interface DirectoryAgent {
  id: number;
  username: string;
  displayname: string;
  status: Status;
  /** The AUX reason, else null. */
  reason: string | null;
  /** The extension of the phone the agent has paired (dial or transfer to it); null when none
   * is paired or it is the browser softphone. */
  extension: string | null;
  /** On a call now. */
  busy: boolean;
}

/** An incoming queue, as the transfer directory shows it. */
export interface DirectoryQueue {
  id: number;
  name: string;
  /** The number callers dial to reach it, or null. */
  number: string | null;
  /** Callers waiting now. */
  waiting: number;
}

/** What listen() and barge() resolve to: the call listened to, whose agent, in which mode. */
export interface Monitoring {
  uniqueid: string;
  userId: number;
  mode: "listen" | "whisper" | "barge";
}

/** A queue of a supervisor's team view: callers waiting now and today's figures. */
export interface TeamQueue {
  queue_id: number;
  name: string;
  /** Callers waiting for an agent now. */
  waiting: number;
  /** Seconds the caller who has waited longest has waited (0: nobody waits). */
  longest_wait: number;
  /** Today: calls an agent answered. */
  answered: number;
  /** Today: callers who hung up before anyone answered. */
  abandoned: number;
  /** Today: percent of the calls answered within 20 s, of those answered or ended (callers
   * still waiting not judged yet, callers who hung up within 5 s left out); null before any. */
  service_level: number | null;
}

/** An agent of a supervisor's team view. */
export interface TeamAgent {
  id: number;
  username: string;
  displayname: string;
  status: Status;
  /** The AUX reason, else null. */
  reason: string | null;
  /** Unix time the status began. */
  status_since: number;
  /** The phone the agent works from, null when not logged in. */
  identifier: string | null;
  /** The call the agent is on (the one in focus), else null. */
  call: Call | null;
  /** The ids of the queues the agent is a member of (the Team tab filters by queue). */
  queues: number[];
}

/** What team() resolves to. */
export interface Team {
  queues: TeamQueue[];
  agents: TeamAgent[];
}

/** window.ucsOperator once the component has loaded (from onConnect on). */
export type UcsOperator = Config & Callbacks & Methods;

/** The method table: the component states each method is allowed in. */
export declare const METHODS: { readonly [K in Exclude<keyof Methods, "on" | "identifier" | "identificator" | "tribute">]: readonly ComponentState[] };
export declare const ALIASES: { readonly tribute: "hold"; readonly identifier: "selectIdentifier"; readonly identificator: "selectIdentifier" };
export declare const STATES: readonly ComponentState[];
export declare const RINGING_SOUNDS: readonly RingingSound[];
export declare const THEMES: readonly Theme[];

/** operator.mjs: set the configuration and load the component; the same object as
 * window.ucsOperator, whose methods are there at once (usable from onConnect on). */
export declare function loadOperator(config?: Config & Callbacks): UcsOperator;
export default loadOperator;

declare global {
  interface Window {
    /** Set by the CRM page before operator.js loads; the component adds its methods. */
    ucsOperator: Config & Callbacks & Partial<Methods>;
  }
}
