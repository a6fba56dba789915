// Every string the interface shows, in English and Czech.

export const TEXT = {
  en: {
    title: "Operator", username: "Username", password: "Password", remember: "Remember me",
    login: "Log in", loggingIn: "Logging in…", phone: "Phone", choosePhone: "Choose your phone",
    identifierHint: "Phone identifier, e.g. phone1", use: "Use this phone", confirm: "Confirm",
    confirmPhone: "Confirm the phone", confirmText: "Calls will ring on", change: "Change phone",
    logout: "Log out", status: "Status", READY: "Ready", AUX: "Not ready", ACW: "After-call work",
    OFFLINE: "Offline", queues: "Queues", suspend: "Pause", resume: "Resume", suspended: "paused",
    noCall: "No call", answer: "Answer", hangup: "Hang up", hold: "Hold", unhold: "Resume call",
    mute: "Mute", unmute: "Unmute", transfer: "Transfer", blind: "Blind transfer",
    finish: "Complete transfer", back: "Back to caller", dial: "Call", number: "Number",
    campaign: "Campaign", direct: "Direct call", auto: "Automatic", accountCode: "Account code",
    save: "Save", stats: "Today", answered: "Answered", missed: "Missed", talk: "Talk time",
    ready: "Ready time", aux: "Not ready", acw: "Wrap-up", incoming: "Incoming",
    outgoing: "Outgoing", ringing: "Ringing", connected: "Connected", held: "On hold",
    waiting: "Caller waiting", dialling: "Calling", lost: "Connection lost — reconnecting…",
    ringtone: "Ringtone", test: "Test", stop: "Stop", theme: "Dark theme", unknown: "Unknown",
    language: "Čeština", transferTo: "Transfer to", reason: "Reason", callback: "Callback request",
    unregistered: "Phone {identifier} is not registered: no queue calls reach it until it registers.",
    statusSetBy: "{name} set your status to {status}.",
    loggedOutBy: "Your session was ended by {name}.",
  },
  cs: {
    title: "Operátor", username: "Uživatelské jméno", password: "Heslo", remember: "Zapamatovat",
    login: "Přihlásit", loggingIn: "Přihlašuji…", phone: "Telefon", choosePhone: "Vyberte telefon",
    identifierHint: "Identifikátor telefonu, např. phone1", use: "Použít telefon",
    confirm: "Potvrdit", confirmPhone: "Potvrďte telefon", confirmText: "Hovory budou zvonit na",
    change: "Změnit telefon", logout: "Odhlásit", status: "Stav", READY: "Připraven",
    AUX: "Nepřipraven", ACW: "Dopracování", OFFLINE: "Offline", queues: "Fronty",
    suspend: "Pozastavit", resume: "Obnovit", suspended: "pozastaveno", noCall: "Žádný hovor",
    answer: "Přijmout", hangup: "Zavěsit", hold: "Podržet", unhold: "Vrátit hovor",
    mute: "Ztlumit", unmute: "Zrušit ztlumení", transfer: "Přepojit", blind: "Přepojit naslepo",
    finish: "Dokončit přepojení", back: "Zpět k volajícímu", dial: "Volat", number: "Číslo",
    campaign: "Kampaň", direct: "Přímý hovor", auto: "Automaticky", accountCode: "Kód hovoru",
    save: "Uložit", stats: "Dnes", answered: "Přijato", missed: "Zmeškáno", talk: "Hovory",
    ready: "Připraven", aux: "Nepřipraven", acw: "Dopracování", incoming: "Příchozí",
    outgoing: "Odchozí", ringing: "Zvoní", connected: "Spojeno", held: "Podrženo",
    waiting: "Volající čeká", dialling: "Vytáčím", lost: "Spojení ztraceno — obnovuji…",
    ringtone: "Vyzvánění", test: "Zkusit", stop: "Zastavit", theme: "Tmavý vzhled",
    unknown: "Neznámé", language: "English", transferTo: "Přepojit na", reason: "Důvod",
    callback: "Žádost o zpětné volání",
    unregistered: "Telefon {identifier} není zaregistrován: dokud se nezaregistruje, nezazvoní na něm žádný hovor z fronty.",
    statusSetBy: "Váš stav je nyní {status} (změna od: {name}).",
    loggedOutBy: "Vaše relace byla ukončena (ukončení od: {name}).",
  },
};

export function t(lang, key) {
  return (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
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
  },
};

export function ta(lang, key) {
  return (ADMIN_TEXT[lang] && ADMIN_TEXT[lang][key]) || ADMIN_TEXT.en[key] || key;
}
