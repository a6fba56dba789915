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
    language: "Čeština", transferTo: "Transfer to", reason: "Reason",
    unregistered: "Phone {identifier} is not registered: no queue calls reach it until it registers.",
    thisBrowser: "This browser", microphone: "Microphone", speaker: "Speaker",
    defaultSpeaker: "System default", inputLevel: "Microphone level",
    micOff: "The microphone is asked for at the first call.",
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
    unregistered: "Telefon {identifier} není zaregistrován: dokud se nezaregistruje, nezazvoní na něm žádný hovor z fronty.",
    thisBrowser: "Tento prohlížeč", microphone: "Mikrofon", speaker: "Reproduktor",
    defaultSpeaker: "Výchozí systémový", inputLevel: "Úroveň mikrofonu",
    micOff: "O mikrofon se požádá při prvním hovoru.",
  },
};

export function t(lang, key) {
  return (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
}
