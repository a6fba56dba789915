// Every string the interface shows, in English and Czech.

export const TEXT = {
  en: {
    desk: "My desk", team: "Team", loading: "Loading…", teamQueues: "Queues", queue: "Queue",
    waitingShort: "Waiting", longestShort: "Longest", abandonedShort: "Abandoned", serviceLevel: "SL",
    campaignNow: "Outgoing · in progress", campaignDialled: "dialled today",
    teamAgents: "Agents", sortBy: "Sort by", byName: "Name", byTime: "Time in status",
    everyone: "Everyone", agent: "Agent", inStatus: "For", allQueues: "All queues",
    moreColumns: "Scroll sideways for more columns",
    title: "Operator", username: "Username", password: "Password", remember: "Remember me",
    login: "Log in", loggingIn: "Logging in…", phone: "Phone", choosePhone: "Choose your phone",
    identifierHint: "Phone identifier, e.g. phone1", use: "Use this phone", confirm: "Confirm",
    confirmPhone: "Confirm the phone", confirmText: "Calls will ring on", change: "Change phone",
    logout: "Log out", status: "Status", READY: "Ready", AUX: "Not ready", ACW: "After-call work",
    OFFLINE: "Offline", queues: "Queues", suspend: "Pause", resume: "Resume", suspended: "paused",
    noCall: "No call", answer: "Answer", hangup: "Hang up", hold: "Hold", unhold: "Resume call",
    recordingNow: "Recording", recordingPaused: "Recording paused",
    listen: "Listen", whisper: "Whisper", barge: "Barge in", stopMonitoring: "Stop",
    listeningTo: "Listening to {name}", bargingIn: "In the call of {name}",
    whisperingTo: "Whispering to {name}",
    stopRecording: "Pause recording", startRecording: "Resume recording",
    mute: "Mute", unmute: "Unmute", transfer: "Transfer", blind: "Blind transfer",
    finish: "Complete transfer", back: "Back to caller", dial: "Call", number: "Number",
    campaign: "Campaign", direct: "Direct call", auto: "Automatic", accountCode: "Account code",
    chooseCode: "Choose a code…", otherCode: "Other account code",
    save: "Save", stats: "Today", answered: "Answered", missed: "Missed", talk: "Talk time",
    ready: "Ready time", aux: "Not ready", acw: "Wrap-up", incoming: "Incoming",
    outgoing: "Outgoing", ringing: "Ringing", connected: "Connected", held: "On hold",
    waiting: "Caller waiting", dialling: "Calling", lost: "Connection lost — reconnecting…",
    ringtone: "Ringtone", test: "Test", stop: "Stop", theme: "Dark theme", unknown: "Unknown",
    language: "Čeština", transferTo: "Transfer to", reason: "Reason", callback: "Callback request",
    unregistered: "Phone {identifier} is not registered: no queue calls reach it until it registers.",
    statusSetBy: "{name} set your status to {status}.",
    loggedOutBy: "Your session was ended by {name}.",
    thisBrowser: "This browser", microphone: "Microphone", speaker: "Speaker",
    defaultSpeaker: "System default", inputLevel: "Microphone level",
    micOff: "The microphone is asked for at the first call.",
    keypad: "Keypad", startOn: "Start work on {phone}", numberOrName: "Number or colleague",
    onCall: "on a call", savedCodes: "Saved codes", wrapUp: "Wrap-up", codeAsked: "choose the call's code",
    codeSaved: "code saved", done: "Done", skipCode: "Close without a code",
    chooseCodeFirst: "Choose a code (or type one) first.",
    reject: "Reject", close: "Close", queueOf: "Queue", hotkeysHint: "Alt+Shift+A answer, H hang up, O hold, M mute",
    statusLabel: "My status", dialQueue: "Dial as", incomingFrom: "Call from {party}",
    "error.INVALID_STATE": "Not possible now.", "error.INVALID_ARGUMENT": "Check what was entered.",
    "error.UNAUTHORIZED": "Wrong username or password.", "error.NOT_FOUND": "Not found.",
    "error.TOO_MANY_ATTEMPTS": "Too many failed logins: wait a few minutes.",
    "error.FORBIDDEN": "You do not have the right to do that.",
    "error.MEDIA_UNAVAILABLE": "Audio is not available (no microphone, or no media server).",
    "error.STORAGE_UNAVAILABLE": "The server cannot save anything now: try again shortly.",
    "error.SWITCH_FAILURE": "The telephone switch could not do it.",
    "error.UNAVAILABLE": "The server did not answer in time.", "error.CONNECTION_LOST": "Not connected to the server.",
    "outcome.busy": "Busy", "outcome.noAnswer": "No answer", "outcome.rejected": "Rejected",
    "outcome.invalidNumber": "Invalid number",
    "sound.default": "Classic", "sound.christmas": "Christmas", "sound.lovingYou": "Loving you",
    "sound.quest": "Quest", "sound.rush": "Rush",
    "outcomeNote.busy": "{number} is busy.", "outcomeNote.noAnswer": "{number} did not answer.",
    "outcomeNote.rejected": "{number} rejected the call.",
    "outcomeNote.invalidNumber": "{number} is not a valid number.",
  },
  cs: {
    desk: "Moje pracoviště", team: "Tým", loading: "Načítám…", teamQueues: "Fronty", queue: "Fronta",
    waitingShort: "Čeká", longestShort: "Nejdéle", abandonedShort: "Zavěšeno", serviceLevel: "Úroveň",
    campaignNow: "Odchozí · probíhá", campaignDialled: "vytočeno dnes",
    teamAgents: "Operátoři", sortBy: "Řadit podle", byName: "Jméno", byTime: "Doba ve stavu",
    everyone: "Všichni", agent: "Operátor", inStatus: "Doba", allQueues: "Všechny fronty",
    moreColumns: "Další sloupce: posuňte tabulku do strany",
    title: "Operátor", username: "Uživatelské jméno", password: "Heslo", remember: "Zapamatovat",
    login: "Přihlásit", loggingIn: "Přihlašuji…", phone: "Telefon", choosePhone: "Vyberte telefon",
    identifierHint: "Identifikátor telefonu, např. phone1", use: "Použít telefon",
    confirm: "Potvrdit", confirmPhone: "Potvrďte telefon", confirmText: "Hovory budou zvonit na",
    change: "Změnit telefon", logout: "Odhlásit", status: "Stav", READY: "K dispozici",
    AUX: "Pauza", ACW: "Dopracování", OFFLINE: "Offline", queues: "Fronty",
    suspend: "Pozastavit", resume: "Obnovit", suspended: "pozastaveno", noCall: "Žádný hovor",
    answer: "Přijmout", hangup: "Zavěsit", hold: "Podržet", unhold: "Vrátit hovor",
    recordingNow: "Nahrává se", recordingPaused: "Nahrávání pozastaveno",
    listen: "Poslech", whisper: "Našeptávání", barge: "Vstoupit", stopMonitoring: "Ukončit",
    listeningTo: "Posloucháte hovor: {name}", bargingIn: "Jste v hovoru: {name}",
    whisperingTo: "Našeptáváte: {name}",
    stopRecording: "Pozastavit nahrávání", startRecording: "Pokračovat v nahrávání",
    mute: "Ztlumit", unmute: "Zrušit ztlumení", transfer: "Přepojit", blind: "Přepojit naslepo",
    finish: "Dokončit přepojení", back: "Zpět k volajícímu", dial: "Volat", number: "Číslo",
    campaign: "Kampaň", direct: "Přímý hovor", auto: "Automaticky", accountCode: "Kód hovoru",
    chooseCode: "Vyberte kód…", otherCode: "Jiný kód hovoru",
    save: "Uložit", stats: "Dnes", answered: "Přijato", missed: "Zmeškáno", talk: "Doba hovorů",
    ready: "K dispozici", aux: "Pauza", acw: "Dopracování", incoming: "Příchozí",
    outgoing: "Odchozí", ringing: "Zvoní", connected: "Spojeno", held: "Podrženo",
    waiting: "Volající čeká", dialling: "Vytáčím", lost: "Spojení ztraceno — obnovuji…",
    ringtone: "Vyzvánění", test: "Zkusit", stop: "Zastavit", theme: "Tmavý vzhled",
    unknown: "Neznámé", language: "English", transferTo: "Přepojit na", reason: "Důvod",
    callback: "Žádost o zpětné volání",
    unregistered: "Telefon {identifier} není zaregistrován: dokud se nezaregistruje, nezazvoní na něm žádný hovor z fronty.",
    statusSetBy: "Váš stav je nyní {status} (změna od: {name}).",
    loggedOutBy: "Vaše relace byla ukončena (ukončení od: {name}).",
    thisBrowser: "Tento prohlížeč", microphone: "Mikrofon", speaker: "Reproduktor",
    defaultSpeaker: "Výchozí systémový", inputLevel: "Úroveň mikrofonu",
    micOff: "O mikrofon se požádá při prvním hovoru.",
    keypad: "Klávesnice", startOn: "Začít pracovat na {phone}", numberOrName: "Číslo nebo kolega",
    onCall: "má hovor", savedCodes: "Uložené kódy", wrapUp: "Dopracování", codeAsked: "vyberte kód hovoru",
    codeSaved: "kód uložen", done: "Hotovo", skipCode: "Zavřít bez kódu",
    chooseCodeFirst: "Nejprve vyberte (nebo napište) kód.",
    reject: "Odmítnout", close: "Zavřít", queueOf: "Fronta", hotkeysHint: "Alt+Shift+A přijmout, H zavěsit, O podržet, M ztlumit",
    statusLabel: "Můj stav", dialQueue: "Volat jako", incomingFrom: "Volá {party}",
    "error.INVALID_STATE": "Teď to nejde.", "error.INVALID_ARGUMENT": "Zkontrolujte zadané údaje.",
    "error.UNAUTHORIZED": "Chybné uživatelské jméno nebo heslo.", "error.NOT_FOUND": "Nenalezeno.",
    "error.TOO_MANY_ATTEMPTS": "Příliš mnoho neúspěšných přihlášení: počkejte několik minut.",
    "error.FORBIDDEN": "K tomu nemáte oprávnění.",
    "error.MEDIA_UNAVAILABLE": "Zvuk není k dispozici (chybí mikrofon nebo mediální server).",
    "error.STORAGE_UNAVAILABLE": "Server teď nemůže nic uložit: zkuste to za chvíli.",
    "error.SWITCH_FAILURE": "Telefonní ústředna to nedokázala provést.",
    "error.UNAVAILABLE": "Server neodpověděl včas.", "error.CONNECTION_LOST": "Není spojení se serverem.",
    "outcome.busy": "Obsazeno", "outcome.noAnswer": "Nikdo to nebere", "outcome.rejected": "Odmítnuto",
    "outcome.invalidNumber": "Neplatné číslo",
    "sound.default": "Klasický", "sound.christmas": "Vánoční", "sound.lovingYou": "Loving you",
    "sound.quest": "Quest", "sound.rush": "Rush",
    "outcomeNote.busy": "Číslo {number} je obsazené.", "outcomeNote.noAnswer": "Na čísle {number} to nikdo nebere.",
    "outcomeNote.rejected": "Číslo {number} hovor odmítlo.",
    "outcomeNote.invalidNumber": "Číslo {number} není platné.",
  },
};

// The language a page of the server opens in (the admin's, the reports'): the address's
// ?lang= (the home page's links carry its own), else the one chosen on that page before
// (remembered under `key`), else the browser's.
export function pageLanguage(key) {
  const asked = new URLSearchParams(window.location.search).get("lang");
  let saved = null;
  try { saved = localStorage.getItem(key); } catch { /* not remembered */ }
  const browser = (navigator.language || "").startsWith("cs") ? "cs" : "en";
  return asked === "cs" || asked === "en" ? asked : saved === "cs" || saved === "en" ? saved : browser;
}

// A language chosen on the page: remembered, and it wins over the link's ?lang= from now on
// (taken out of the address, so that a reload keeps the choice).
export function rememberLanguage(key, lang) {
  try { localStorage.setItem(key, lang); } catch { /* not remembered */ }
  const url = new URL(window.location.href);
  if (!url.searchParams.has("lang")) return;
  url.searchParams.delete("lang");
  window.history.replaceState(null, "", url);
}

/** ``text`` with each ``{key}`` of ``values`` filled in (others left as they are). */
export function fill(text, values = {}) {
  return text.replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
}

export function t(lang, key) {
  return (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
}

// What the agent reads of an error with `code` (CONTRACT §5): in English the server's own
// message, which names what was wrong; in another language the code's words in it.
export function errorText(lang, code, message) {
  if (lang !== "en" && TEXT[lang] && TEXT[lang][`error.${code}`]) return TEXT[lang][`error.${code}`];
  const text = message || TEXT.en[`error.${code}`] || String(code || "error");
  return text.charAt(0).toUpperCase() + text.slice(1); // shown as the component's own notes are
}

// The web admin's strings (/admin/, src/ucs/admin): kept here with the component's, so that
// every English and Czech string of the product lives in one file.
export const ADMIN_TEXT = {
  en: {
    title: "ucs administration", signIn: "Sign in", superuserLogin: "A superuser's login",
    orToken: "or the admin token", adminToken: "Admin token", username: "Username",
    password: "Password", logout: "Log out", language: "Čeština", signedInAs: "Signed in as",
    agents: "Agents", phones: "Phones", queues: "Queues", reasons: "AUX reasons",
    settings: "Settings", audit: "Audit log", add: "Add", edit: "Edit", remove: "Remove",
    save: "Save", cancel: "Cancel", members: "Members", noneYet: "Nothing here yet.",
    confirmRemove: "Remove {what}?", saved: "Saved.", removed: "Removed.",
    firstname: "First name", lastname: "Last name", displayname: "Display name", email: "E-mail",
    locale: "Language", superuser: "Superuser", lines: "Phones", memberships: "Queues",
    identifier: "Identifier", extension: "Extension", name: "Name", secret: "SIP password",
    type: "Type", incoming: "Incoming", outgoing: "Outgoing (campaign)", strategy: "Strategy",
    ring_timeout: "Ring time (s)", wrapup: "Wrap-up (s)", weight: "Weight", number: "Number",
    rona_reason: "After a missed call", ronaNone: "Stay ready", priority: "Priority",
    supervisor: "Supervisor", agent: "Agent", addMember: "Add a member", reason: "Reason",
    addReason: "Add a reason", ssoSecret: "SSO secret", ssoHint: "At least 8 characters. Tokens made with the old secret stop working.",
    passwordHint: "At least 8 characters.", passwordKeep: "Leave empty to keep the password.",
    at: "When", actor: "Who", action: "What", status: "Result", body: "Sent", more: "More",
    id: "Id", refused: "Refused", wrongLogin: "Wrong username or password, or not a superuser.",
    wrongToken: "That is not the admin token.", unreachable: "The server cannot be reached.",
    queue: "Queue", unsaved: "The form has errors: see the fields marked.",
    recording: "Recording", recNever: "Never", recAlways: "Always", recOnDemand: "On demand",
    service_level_target: "Service level target (s)",
    partition: "Partition",
    partitionHint: "In a cluster, the one node that runs it (default main). An agent's queues are all in its partition.",
    dispositions: "Account codes (dispositions)", free_text_codes: "Agents may also type other codes",
    dispositionsHint: "One a line: CODE = Label, in the order agents see them. Empty: any code.",
    supervisorOnly: "A supervisor's login opens the reports (/reports/) and the wallboard (/wallboard/), not the administration.",
    fullname: "Name", "strategy.ringall": "Ring all at once", "strategy.longest-idle": "Longest idle first",
    "strategy.round-robin": "Round robin", "strategy.fewest-calls": "Fewest calls first",
    "strategy.priority": "By priority",
    "v.required": "Required.", "v.atLeastChars": "At least {n} characters.",
    "v.atMostChars": "At most {n} characters.", "v.atLeast": "At least {n}.", "v.atMost": "At most {n}.",
    "v.integer": "A whole number.",
  },
  cs: {
    title: "Správa ucs", signIn: "Přihlásit", superuserLogin: "Přihlášení správce",
    orToken: "nebo správcovský token", adminToken: "Správcovský token",
    username: "Uživatelské jméno", password: "Heslo", logout: "Odhlásit", language: "English",
    signedInAs: "Přihlášeno jako", agents: "Operátoři", phones: "Telefony", queues: "Fronty",
    reasons: "Důvody nepřipravenosti", settings: "Nastavení", audit: "Záznam změn",
    add: "Přidat", edit: "Upravit", remove: "Odebrat", save: "Uložit", cancel: "Zrušit",
    members: "Členové", noneYet: "Zatím nic.", confirmRemove: "Odebrat {what}?",
    saved: "Uloženo.", removed: "Odebráno.", firstname: "Jméno", lastname: "Příjmení",
    displayname: "Zobrazované jméno", email: "E-mail", locale: "Jazyk", superuser: "Správce",
    lines: "Telefony", memberships: "Fronty", identifier: "Identifikátor", extension: "Linka",
    name: "Název", secret: "Heslo SIP", type: "Typ", incoming: "Příchozí",
    outgoing: "Odchozí (kampaň)", strategy: "Rozdělování", ring_timeout: "Vyzvánění (s)",
    wrapup: "Dopracování (s)", weight: "Váha", number: "Číslo",
    rona_reason: "Po zmeškaném hovoru", ronaNone: "Zůstat připraven", priority: "Priorita",
    supervisor: "Supervizor", agent: "Operátor", addMember: "Přidat člena", reason: "Důvod",
    addReason: "Přidat důvod", ssoSecret: "Tajemství SSO", ssoHint: "Aspoň 8 znaků. Tokeny ze starého tajemství přestanou platit.",
    passwordHint: "Aspoň 8 znaků.", passwordKeep: "Prázdné: heslo zůstane.", at: "Kdy",
    actor: "Kdo", action: "Co", status: "Výsledek", body: "Odesláno", more: "Další",
    id: "Id", refused: "Odmítnuto", wrongLogin: "Špatné jméno nebo heslo, nebo nejde o správce.",
    wrongToken: "To není správcovský token.", unreachable: "Server není dostupný.",
    queue: "Fronta", unsaved: "Formulář obsahuje chyby: viz označená pole.",
    recording: "Nahrávání", recNever: "Nikdy", recAlways: "Vždy", recOnDemand: "Na požádání",
    service_level_target: "Cíl úrovně služby (s)",
    partition: "Oddíl",
    partitionHint: "V clusteru ho obsluhuje jediný uzel (výchozí main). Všechny fronty agenta jsou v jeho oddílu.",
    dispositions: "Kódy hovorů (výsledky)", free_text_codes: "Operátoři mohou psát i jiné kódy",
    dispositionsHint: "Na každý řádek KÓD = Popis, v pořadí, jak je operátoři uvidí. Prázdné: jakýkoli kód.",
    supervisorOnly: "Přihlášení supervizora otevírá přehledy (/reports/) a nástěnku (/wallboard/), ne správu.",
    fullname: "Jméno", "strategy.ringall": "Vyzvánět všem naráz", "strategy.longest-idle": "Nejdéle volný první",
    "strategy.round-robin": "Po řadě", "strategy.fewest-calls": "Nejméně hovorů první",
    "strategy.priority": "Podle priority",
    "v.required": "Povinné.", "v.atLeastChars": "Aspoň {n} znaků.",
    "v.atMostChars": "Nejvýše {n} znaků.", "v.atLeast": "Nejméně {n}.", "v.atMost": "Nejvýše {n}.",
    "v.integer": "Celé číslo.",
  },
};

export function ta(lang, key) {
  return (ADMIN_TEXT[lang] && ADMIN_TEXT[lang][key]) || ADMIN_TEXT.en[key] || key;
}

// The wallboard's strings (/wallboard/, src/ucs/wallboard).
export const WALLBOARD_TEXT = {
  en: {
    title: "Contact center", waiting: "waiting", longest: "Longest", answered: "Answered",
    abandoned: "Abandoned", serviceLevel: "SL", onCall: "On call", READY: "Ready",
    dialling: "in progress", dialled: "Dialled", reached: "Answered", unreached: "Not answered",
    reachRate: "Reached",
    AUX: "Not ready", ACW: "Wrap-up", OFFLINE: "Offline", signIn: "Sign in",
    username: "Username (a supervisor or superuser)", password: "Password", token: "or the admin token",
    stale: "No answer from the server: showing {seconds} s old figures",
    refused: "Not signed in: a supervisor's or superuser's login, or the admin token, is needed.",
  },
  cs: {
    title: "Kontaktní centrum", waiting: "čeká", longest: "Nejdéle", answered: "Přijato",
    abandoned: "Zavěšeno", serviceLevel: "Úroveň", onCall: "Hovor", READY: "K dispozici",
    dialling: "probíhá", dialled: "Vytočeno", reached: "Přijato", unreached: "Nepřijato",
    reachRate: "Dovoláno",
    AUX: "Pauza", ACW: "Dopracování", OFFLINE: "Offline", signIn: "Přihlásit",
    username: "Uživatelské jméno (supervizor nebo superuživatel)", password: "Heslo", token: "nebo token správce",
    stale: "Server neodpovídá: údaje jsou {seconds} s staré",
    refused: "Nepřihlášeno: je třeba přihlášení supervizora nebo superuživatele, nebo token správce.",
  },
};

// The reports page's strings (/reports/, src/ucs/reports).
export const REPORTS_TEXT = {
  en: {
    title: "Reports", signIn: "Sign in", username: "Username (a supervisor or superuser)",
    password: "Password", token: "or the admin token", logout: "Sign out", language: "Čeština",
    theme: "Dark", themeLight: "Light", from: "From", to: "To", interval: "Interval",
    hour: "Hourly", day: "Daily", show: "Show", loading: "Loading…",
    refused: "Not signed in: a supervisor's or superuser's login, or the admin token, is needed.",
    agentOnly: "This login supervises no queue.", unreachable: "The server cannot be reached.",
    serviceLevel: "Service level (%)", abandonedChart: "Abandoned calls", handleChart: "Average handle time per agent (s)",
    queuesTable: "Queues", agentsTable: "Agents", csvQueues: "Queues as CSV", csvAgents: "Agents as CSV",
    queue: "Queue", start: "From", offered: "Offered", answered: "Answered", abandoned: "Abandoned",
    answered_within_target: "Within target", service_level: "SL %", asa: "ASA (s)", aht: "AHT (s)",
    max_wait: "Longest wait (s)", agent: "Agent", missed: "Missed", talktime: "Talk",
    acwtime: "Wrap-up", auxtime: "Not ready", readytime: "Ready", loggedtime: "Logged in",
    occupancy: "Occupancy %", nothing: "No calls in this period.", talk: "Talk", wrapUp: "Wrap-up",
    signedInAs: "Signed in as {who}", badPeriod: "Check the dates: {detail}",
    backwards: "Check the dates: the first is after the last.",
    fillIn: "Fill in the username and the password, or the admin token.",
    recordings: "Recordings", recStart: "Started", recAgents: "Agents", recLength: "Length",
    play: "Play", download: "Download", noRecordings: "No recordings in this period.",
    playing: "Playing: {what}", recordingsUnavailable: "The recordings cannot be listed: {detail}",
    remove: "Delete", removeRecording: "Delete the recording of {what}? It cannot be undone.",
  },
  cs: {
    title: "Přehledy", signIn: "Přihlásit", username: "Uživatelské jméno (supervizor nebo správce)",
    password: "Heslo", token: "nebo token správce", logout: "Odhlásit", language: "English",
    theme: "Tmavý", themeLight: "Světlý", from: "Od", to: "Do", interval: "Po",
    hour: "Hodinách", day: "Dnech", show: "Zobrazit", loading: "Načítám…",
    refused: "Nepřihlášeno: je třeba přihlášení supervizora nebo správce, nebo token správce.",
    agentOnly: "Tento účet nedohlíží na žádnou frontu.", unreachable: "Server není dostupný.",
    serviceLevel: "Úroveň služby (%)", abandonedChart: "Zavěšené hovory", handleChart: "Průměrná doba vyřízení podle operátora (s)",
    queuesTable: "Fronty", agentsTable: "Operátoři", csvQueues: "Fronty jako CSV", csvAgents: "Operátoři jako CSV",
    queue: "Fronta", start: "Od", offered: "Nabídnuto", answered: "Přijato", abandoned: "Zavěšeno",
    answered_within_target: "V cíli", service_level: "Úroveň %", asa: "Čekání (s)", aht: "Vyřízení (s)",
    max_wait: "Nejdelší čekání (s)", agent: "Operátor", missed: "Zmeškáno", talktime: "Hovor",
    acwtime: "Dopracování", auxtime: "Pauza", readytime: "K dispozici", loggedtime: "Přihlášení",
    occupancy: "Vytížení %", nothing: "V tomto období nebyly žádné hovory.", talk: "Hovor", wrapUp: "Dopracování",
    signedInAs: "Účet: {who}", badPeriod: "Zkontrolujte data: {detail}",
    backwards: "Zkontrolujte data: první je až po posledním.",
    fillIn: "Vyplňte uživatelské jméno a heslo, nebo token správce.",
    recordings: "Nahrávky", recStart: "Začátek", recAgents: "Operátoři", recLength: "Délka",
    play: "Přehrát", download: "Stáhnout", noRecordings: "V tomto období nejsou žádné nahrávky.",
    playing: "Přehrává se: {what}", recordingsUnavailable: "Nahrávky nelze vypsat: {detail}",
    remove: "Smazat", removeRecording: "Smazat nahrávku {what}? Nelze to vrátit.",
  },
};
