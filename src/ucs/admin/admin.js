// The web admin (/admin/): sign in with a superuser's login or the admin token, then manage
// agents, phones, queues and memberships, AUX reasons and settings, and read the audit log.
// Plain ES modules over the REST API, no build step; English and Czech (i18n.js).

import { ADMIN_TEXT, pageLanguage, rememberLanguage, ta } from "../operator/i18n.js";
import { Api } from "./api.js";
import { esc, formHtml, showErrors } from "./forms.js";
import { agentsView, auditView, phonesView, queuesView, reasonsView, settingsView } from "./views.js";

const PAGES = { agents: agentsView, phones: phonesView, queues: queuesView, reasons: reasonsView, settings: settingsView, audit: auditView };

const LANG_KEY = "ucsAdminLang";

class Admin {
  constructor(root) {
    this.root = root;
    this.api = new Api();
    this.lang = pageLanguage(LANG_KEY);
    this.page = (location.hash || "#agents").slice(1);
    if (!(this.page in PAGES)) this.page = "agents";
    this.actor = null;
    this.note = "";
    window.addEventListener("hashchange", () => {
      const page = location.hash.slice(1);
      if (page in PAGES && page !== this.page) { this.page = page; this.show(); }
    });
  }

  tr(key) { return ta(this.lang, key); }

  async start() {
    if (this.api.token) {
      try {
        this.actor = (await this.api.get("/api/admin/me")).actor;
      } catch (err) {
        this.api.signedOut();
      }
    }
    if (this.actor) await this.show();
    else this.login();
  }

  login(error) {
    document.documentElement.lang = this.lang;
    document.title = this.tr("title");
    const user = formHtml("login-user", [
      { name: "username", label: this.tr("username"), kind: "text", required: true },
      { name: "password", label: this.tr("password"), kind: "password", required: true },
    ], {}, this.tr("signIn"), "");
    const token = formHtml("login-token", [{ name: "token", label: this.tr("adminToken"), kind: "password", required: true }], {}, this.tr("signIn"), "");
    this.root.innerHTML = `<header><h1>${esc(this.tr("title"))}</h1>${this.langButton()}</header>
      <main class="login"><section class="card"><h2>${esc(this.tr("superuserLogin"))}</h2>${user}</section>
      <section class="card"><h2>${esc(this.tr("orToken"))}</h2>${token}</section></main>`;
    this.bindLang();
    const userForm = this.root.querySelector("#login-user");
    userForm.querySelector('input[name="password"]').setAttribute("autocomplete", "current-password");
    userForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { username: userForm.elements.namedItem("username").value.trim(), password: userForm.elements.namedItem("password").value };
      try {
        const session = await this.api.post("/api/admin/login", body);
        if (session.role !== "admin") { // a supervisor: the reports and the wallboard only
          this.api.signedIn(session.token);
          await this.api.post("/api/admin/logout").catch(() => null);
          this.api.signedOut();
          showErrors(userForm, { general: [this.tr("supervisorOnly")] }, "");
          return;
        }
        this.api.signedIn(session.token);
        this.actor = session.username;
        await this.show();
      } catch (err) {
        showErrors(userForm, err.status === 401 ? { general: [this.tr("wrongLogin")] } : err, "");
      }
    });
    const tokenForm = this.root.querySelector("#login-token");
    tokenForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      this.api.signedIn(tokenForm.elements.namedItem("token").value.trim());
      try {
        this.actor = (await this.api.get("/api/admin/me")).actor;
        await this.show();
      } catch (err) {
        this.api.signedOut();
        showErrors(tokenForm, { general: [this.tr(err.status === 401 ? "wrongToken" : "unreachable")] }, "");
      }
    });
    if (error) showErrors(userForm, error, "");
    this.root.querySelector("input")?.focus();
  }

  langButton() {
    return `<button type="button" data-lang lang="${this.lang === "cs" ? "en" : "cs"}">${esc(this.tr("language"))}</button>`;
  }

  bindLang() {
    this.root.querySelector("[data-lang]").addEventListener("click", () => {
      this.lang = this.lang === "cs" ? "en" : "cs";
      rememberLanguage(LANG_KEY, this.lang);
      if (this.actor) this.render();
      else this.login();
    });
  }

  // Load what the page shows (and the names it needs), then draw it; `note` (the key of its
  // words, in whichever language the page is drawn) is said once.
  async show(note = "") {
    try {
      const [queues, lines, reasons] = await Promise.all([
        this.api.get("/api/queues"), this.api.get("/api/lines"), this.api.get("/api/aux-reasons"),
      ]);
      this.directory = {
        queues, lines, reasons: reasons.reasons,
        queueName: (id) => (queues.find((q) => q.id === id) || { name: `#${id}` }).name,
        lineName: (id) => (lines.find((l) => l.id === id) || { identifier: `#${id}` }).identifier,
      };
      const keep = this.view && this.viewPage === this.page ? this.view : null;
      this.view = keep || PAGES[this.page](this);
      this.viewPage = this.page;
      await this.view.load(this.view);
      this.note = note;
      this.render();
    } catch (err) {
      this.fail(err);
    }
  }

  fail(err) {
    if (err && err.status === 401) {
      this.api.signedOut();
      this.actor = null;
      this.login();
      return;
    }
    this.note = "";
    this.render();
    const slot = this.root.querySelector("[data-note]");
    slot.className = "note error";
    slot.textContent = `${this.tr("refused")}: ${(err && err.message) || err}`;
  }

  render() {
    document.documentElement.lang = this.lang;
    document.title = `${this.tr(this.page)} · ${this.tr("title")}`;
    const nav = Object.keys(PAGES).map((p) => `<button type="button" data-page="${p}"${p === this.page ? ' aria-current="page"' : ""}>${esc(this.tr(p))}</button>`);
    this.root.innerHTML = `<header><h1>${esc(this.tr("title"))}</h1>
      <span>${esc(this.tr("signedInAs"))} <strong>${esc(this.actor)}</strong></span>${this.langButton()}
      <button type="button" data-logout>${esc(this.tr("logout"))}</button></header>
      <nav aria-label="${esc(this.tr("title"))}">${nav.join("")}</nav>
      <main><p class="note ok" data-note role="status">${esc(this.note ? this.tr(this.note) : "")}</p>${this.view.html(this.view)}</main>`;
    this.bindLang();
    for (const b of this.root.querySelectorAll("[data-page]")) {
      b.addEventListener("click", () => { location.hash = b.dataset.page; });
    }
    this.root.querySelector("[data-logout]").addEventListener("click", async () => {
      try { await this.api.post("/api/admin/logout"); } catch (err) { /* signed out anyway */ }
      this.api.signedOut();
      this.actor = null;
      this.view = null;
      this.login();
    });
    this.view.bind(this.root, this.view);
  }
}

// A table wider than its card (any on a phone, the queues' eleven columns on a laptop, more so
// in Czech) becomes a list of records, one field a line, rather than hiding its last columns
// and their buttons behind a sideways scroll. Measured, since the width depends on the
// language and the data; again whenever the page changes (a view drawn later, the members of
// a queue) or the window is resized.
function fitTables(root) {
  for (const table of root.querySelectorAll("section.card table")) {
    table.classList.remove("stacked");
    const card = table.parentElement;
    const style = getComputedStyle(card);
    const room = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (table.scrollWidth > room + 1) table.classList.add("stacked");
  }
}
function watchTables(root) {
  let pending = false;
  const fit = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fitTables(root); });
  };
  new MutationObserver(fit).observe(root, { childList: true, subtree: true });
  window.addEventListener("resize", fit);
}

export { ADMIN_TEXT };
watchTables(document.getElementById("admin"));
window.ucsAdmin = new Admin(document.getElementById("admin"));
window.ucsAdmin.start();
