// The pages of the web admin: agents, phones, queues with their members, AUX reasons,
// settings and the audit log, each over the REST API (docs/admin.md).

import { esc, formHtml, formValues, showErrors } from "./forms.js";

const STRATEGIES = ["ringall", "longest-idle", "round-robin", "fewest-calls", "priority"];
const MISSED_CALL = "Missed call"; // new queues' RONA reason (ucs.core.directory.MISSED_CALL)

// One table of records with a form to add and edit them.
class Records {
  constructor(app, { path, title, columns, fields, row, body, extra, defaults = {} }) {
    Object.assign(this, { app, path, title, columns, fieldsOf: fields, row, body, extra, defaults });
    this.editing = null; // the record being edited, or null: adding
  }

  async load() {
    this.items = await this.app.api.get(this.path);
    await (this.extra ? this.extra.load(this) : null);
  }

  html() {
    const tr = (k) => this.app.tr(k);
    const heads = this.columns.map((c) => `<th scope="col">${esc(tr(c))}</th>`).join("");
    const rows = this.items.map((item) => {
      const cells = this.columns.map((c) => `<td data-label="${esc(tr(c))}">${esc(this.row(item)[c])}</td>`).join("");
      const more = this.extra ? this.extra.button(item) : "";
      return `<tr>${cells}<td class="actions"><button type="button" data-edit="${item.id}">${esc(tr("edit"))}</button>
        ${more} <button type="button" class="danger" data-remove="${item.id}">${esc(tr("remove"))}</button></td></tr>`;
    });
    const table = rows.length
      ? `<table><thead><tr>${heads}<th></th></tr></thead><tbody>${rows.join("")}</tbody></table>`
      : `<p>${esc(tr("noneYet"))}</p>`;
    const values = this.editing || this.defaults;
    const heading = this.editing ? `${tr("edit")}: ${this.row(this.editing)[this.columns[1]]}` : tr("add");
    const form = formHtml("record", this.fieldsOf(Boolean(this.editing)), values, tr("save"), this.editing ? tr("cancel") : "");
    const extra = this.extra ? this.extra.html(this) : "";
    return `<section class="card"><h2>${esc(tr(this.title))}</h2>${table}</section>${extra}
      <section class="card"><h2>${esc(heading)}</h2>${form}</section>`;
  }

  bind(root) {
    const form = root.querySelector("#record");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = this.fieldsOf(Boolean(this.editing));
      const values = this.body(formValues(form, fields), this.editing);
      try {
        if (this.editing) await this.app.api.patch(`${this.path}/${this.editing.id}`, values);
        else await this.app.api.post(this.path, values);
        this.editing = null;
        await this.app.show("saved");
      } catch (err) {
        showErrors(form, err, this.app.tr("unsaved"));
      }
    });
    form.querySelector("[data-cancel]")?.addEventListener("click", () => { this.editing = null; this.app.render(); });
    for (const b of root.querySelectorAll("[data-edit]")) {
      b.addEventListener("click", () => {
        this.editing = this.items.find((i) => String(i.id) === b.dataset.edit);
        this.app.render();
        root.querySelector("#record input, #record select")?.focus();
      });
    }
    for (const b of root.querySelectorAll("[data-remove]")) {
      b.addEventListener("click", async () => {
        const item = this.items.find((i) => String(i.id) === b.dataset.remove);
        const what = this.row(item)[this.columns[1]];
        if (!window.confirm(this.app.tr("confirmRemove").replace("{what}", what))) return;
        try {
          await this.app.api.remove(`${this.path}/${item.id}`);
          await this.app.show("removed");
        } catch (err) {
          this.app.fail(err);
        }
      });
    }
    if (this.extra) this.extra.bind(root, this);
  }
}

export function agentsView(app) {
  const d = app.directory;
  return new Records(app, {
    path: "/api/agents",
    title: "agents",
    columns: ["id", "username", "fullname", "superuser", "partition", "memberships", "lines"],
    row: (a) => ({
      ...a,
      fullname: [a.firstname, a.lastname].filter(Boolean).join(" "),
      superuser: a.superuser ? "✓" : "",
      memberships: a.memberships.map((m) => d.queueName(m.queue) + (m.supervisor ? " ★" : "")).join(", "),
      lines: a.lines.map((l) => d.lineName(l)).join(", "),
    }),
    fields: (editing) => [
      { name: "username", label: app.tr("username"), kind: "text", required: true },
      { name: "password", label: app.tr("password"), kind: "password", required: !editing,
        hint: editing ? app.tr("passwordKeep") : app.tr("passwordHint") },
      { name: "firstname", label: app.tr("firstname"), kind: "text" },
      { name: "lastname", label: app.tr("lastname"), kind: "text" },
      { name: "displayname", label: app.tr("displayname"), kind: "text" },
      { name: "email", label: app.tr("email"), kind: "text" },
      { name: "locale", label: app.tr("locale"), kind: "select", options: [["en", "English"], ["cs", "Čeština"]] },
      { name: "superuser", label: app.tr("superuser"), kind: "checkbox" },
      { name: "partition", label: app.tr("partition"), kind: "text", required: true, hint: app.tr("partitionHint") },
      { name: "memberships", label: app.tr("memberships"), kind: "checks", int: true, options: d.queues.map((q) => [q.id, q.name]) },
      { name: "lines", label: app.tr("lines"), kind: "checks", int: true, options: d.lines.map((l) => [l.id, `${l.identifier} (${l.extension})`]) },
    ],
    body: (v, editing) => {
      const before = new Map(((editing && editing.memberships) || []).map((m) => [m.queue, m]));
      const memberships = v.memberships.map((q) => before.get(q) || { queue: q });
      const body = { ...v, memberships };
      for (const key of ["firstname", "lastname", "displayname", "email"]) body[key] = body[key] ?? "";
      return body;
    },
    extra: null,
    defaults: { partition: "main" },
  });
}

export function phonesView(app) {
  return new Records(app, {
    path: "/api/lines",
    title: "phones",
    columns: ["id", "identifier", "extension", "name"],
    row: (l) => l,
    fields: (editing) => [
      { name: "identifier", label: app.tr("identifier"), kind: "text", required: true },
      { name: "extension", label: app.tr("extension"), kind: "text", required: true },
      { name: "name", label: app.tr("name"), kind: "text" },
      { name: "secret", label: app.tr("secret"), kind: "password", hint: editing ? app.tr("passwordKeep") : "" },
    ],
    body: (v) => ({ ...v, name: v.name ?? "" }),
    extra: null,
  });
}

// A queue's members: who, with which priority, supervising or not.
const members = (app) => ({
  open: null,
  async load(view) {
    this.agents = await app.api.get("/api/agents");
    if (this.open && !view.items.some((q) => q.id === this.open)) this.open = null;
  },
  button(queue) {
    return `<button type="button" data-members="${queue.id}" aria-expanded="${this.open === queue.id}">${esc(app.tr("members"))}</button>`;
  },
  html(view) {
    if (this.open === null) return "";
    const queue = view.items.find((q) => q.id === this.open);
    const inside = this.agents.filter((a) => a.memberships.some((m) => m.queue === queue.id));
    const rows = inside.map((a) => {
      const m = a.memberships.find((x) => x.queue === queue.id);
      const [who, rank, boss] = ["agent", "priority", "supervisor"].map((k) => esc(app.tr(k)));
      return `<tr><td data-label="${who}">${esc(a.username)}</td><td data-label="${rank}">${m.priority}</td>
        <td data-label="${boss}">${m.supervisor ? "✓" : ""}</td>
        <td><button type="button" class="danger" data-leave="${a.id}">${esc(app.tr("remove"))}</button></td></tr>`;
    });
    const outside = this.agents.filter((a) => !inside.includes(a)).map((a) => [a.id, a.username]);
    const form = formHtml("member", [
      { name: "agent", label: app.tr("agent"), kind: "select", options: outside },
      { name: "priority", label: app.tr("priority"), kind: "number", step: "1" },
      { name: "supervisor", label: app.tr("supervisor"), kind: "checkbox" },
    ], { priority: 1 }, app.tr("addMember"), "");
    return `<section class="card"><h2>${esc(app.tr("members"))}: ${esc(queue.name)}</h2>
      <table><thead><tr><th scope="col">${esc(app.tr("agent"))}</th><th scope="col">${esc(app.tr("priority"))}</th>
      <th scope="col">${esc(app.tr("supervisor"))}</th><th></th></tr></thead><tbody>${rows.join("")}</tbody></table>
      ${outside.length ? form : ""}</section>`;
  },
  bind(root) {
    for (const b of root.querySelectorAll("[data-members]")) {
      b.addEventListener("click", () => { this.open = this.open === Number(b.dataset.members) ? null : Number(b.dataset.members); app.render(); });
    }
    for (const b of root.querySelectorAll("[data-leave]")) {
      b.addEventListener("click", async () => {
        try {
          await app.api.remove(`/api/queues/${this.open}/members/${b.dataset.leave}`);
          await app.show("removed");
        } catch (err) { app.fail(err); }
      });
    }
    const form = root.querySelector("#member");
    form?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const agent = form.elements.namedItem("agent").value;
      const priority = form.elements.namedItem("priority").value.trim();
      const body = { priority: priority === "" ? 1 : Number(priority), supervisor: form.elements.namedItem("supervisor").checked };
      try {
        await app.api.put(`/api/queues/${this.open}/members/${agent}`, body);
        await app.show("saved");
      } catch (err) { showErrors(form, err, app.tr("unsaved")); }
    });
  },
});

// A queue's dispositions (the account codes its calls may be given) as the form's text, one a
// line "CODE = Label", and back ("CODE" alone: labelled by its code; the server judges the rest).
function dispositionsText(list) {
  return (list || []).map((d) => `${d.code} = ${d.label}`).join("\n");
}

function dispositionsOf(text) {
  return text.split("\n").filter((line) => line.trim()).map((line) => {
    const at = line.indexOf("=");
    const code = (at < 0 ? line : line.slice(0, at)).trim();
    return { code, label: at < 0 ? code : line.slice(at + 1).trim() };
  });
}

// A queue's recording mode (CONTRACT §10) and the words that name it.
const RECORDING = { never: "recNever", always: "recAlways", on_demand: "recOnDemand" };

export function queuesView(app) {
  const d = app.directory;
  return new Records(app, {
    path: "/api/queues",
    title: "queues",
    columns: ["id", "name", "type", "strategy", "ring_timeout", "wrapup", "number", "rona_reason", "recording", "partition", "dispositions"],
    row: (q) => ({ ...q, type: app.tr(q.type === 1 ? "incoming" : "outgoing"), rona_reason: q.rona_reason ?? "—",
      strategy: app.tr(`strategy.${q.strategy}`),
      recording: app.tr(RECORDING[q.recording] || "recNever"),
      dispositions: (q.dispositions || []).map((x) => x.code).join(", ") || "—" }),
    fields: () => [
      { name: "name", label: app.tr("name"), kind: "text", required: true },
      { name: "type", label: app.tr("type"), kind: "select", int: true, options: [[1, app.tr("incoming")], [0, app.tr("outgoing")]] },
      { name: "strategy", label: app.tr("strategy"), kind: "select", options: STRATEGIES.map((s) => [s, app.tr(`strategy.${s}`)]) },
      { name: "ring_timeout", label: app.tr("ring_timeout"), kind: "number" },
      { name: "wrapup", label: app.tr("wrapup"), kind: "number" },
      { name: "service_level_target", label: app.tr("service_level_target"), kind: "number", step: "1" },
      { name: "weight", label: app.tr("weight"), kind: "number", step: "1" },
      { name: "number", label: app.tr("number"), kind: "text", nullable: true },
      // A new queue's default, "Missed call", is made an AUX reason by the server if it is none.
      { name: "rona_reason", label: app.tr("rona_reason"), kind: "select", nullable: true,
        options: [["", app.tr("ronaNone")], ...[...new Set([...d.reasons, MISSED_CALL])].map((r) => [r, r])] },
      { name: "recording", label: app.tr("recording"), kind: "select",
        options: Object.entries(RECORDING).map(([mode, key]) => [mode, app.tr(key)]) },
      { name: "partition", label: app.tr("partition"), kind: "text", required: true, hint: app.tr("partitionHint") },
      { name: "dispositions", label: app.tr("dispositions"), kind: "lines", hint: app.tr("dispositionsHint"),
        format: dispositionsText, parse: dispositionsOf },
      { name: "free_text_codes", label: app.tr("free_text_codes"), kind: "checkbox" },
    ],
    body: (v) => v,
    extra: members(app),
    defaults: { type: 1, strategy: "longest-idle", ring_timeout: 15, wrapup: 0, service_level_target: 20, weight: 0, recording: "never", rona_reason: MISSED_CALL, partition: "main", dispositions: [], free_text_codes: false },
  });
}

export function reasonsView(app) {
  return {
    async load() { this.reasons = [...app.directory.reasons]; },
    html() {
      const items = this.reasons.map((r, i) => `<li>${esc(r)} <button type="button" class="danger" data-drop="${i}" aria-label="${esc(app.tr("remove"))} ${esc(r)}">${esc(app.tr("remove"))}</button></li>`);
      const form = formHtml("reason", [{ name: "reasons", label: app.tr("addReason"), kind: "text" }], {}, app.tr("save"), "");
      return `<section class="card"><h2>${esc(app.tr("reasons"))}</h2><ul>${items.join("")}</ul>${form}</section>`;
    },
    bind(root) {
      const form = root.querySelector("#reason");
      const save = async (reasons) => {
        try {
          await app.api.put("/api/aux-reasons", { reasons });
          await app.show("saved");
        } catch (err) { showErrors(form, err, app.tr("unsaved")); }
      };
      for (const b of root.querySelectorAll("[data-drop]")) {
        b.addEventListener("click", () => save(this.reasons.filter((_, i) => i !== Number(b.dataset.drop))));
      }
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const added = form.elements.namedItem("reasons").value.trim();
        save(added ? [...this.reasons, added] : this.reasons);
      });
    },
  };
}

export function settingsView(app) {
  return {
    async load() {},
    html() {
      const form = formHtml("sso", [{ name: "secret", label: app.tr("ssoSecret"), kind: "password", hint: app.tr("ssoHint") }], {}, app.tr("save"), "");
      return `<section class="card"><h2>${esc(app.tr("settings"))}</h2>${form}</section>`;
    },
    bind(root) {
      const form = root.querySelector("#sso");
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await app.api.put("/api/settings/sso-secret", { secret: form.elements.namedItem("secret").value });
          await app.show("saved");
        } catch (err) { showErrors(form, err, app.tr("unsaved")); }
      });
    },
  };
}

export function auditView(app) {
  return {
    shown: 50,
    async load() { this.page = await app.api.get(`/api/audit?limit=${this.shown}`); },
    html() {
      const when = (at) => new Date(at * 1000).toLocaleString(app.lang === "cs" ? "cs-CZ" : "en-GB");
      const [a, b, c, d, e2] = ["at", "actor", "action", "status", "body"].map((k) => esc(app.tr(k)));
      const rows = this.page.entries.map((e) => `<tr><td data-label="${a}">${esc(when(e.at))}</td>
        <td data-label="${b}">${esc(e.actor)}</td><td data-label="${c}">${esc(e.method)} ${esc(e.path)}</td>
        <td data-label="${d}">${e.status}</td><td data-label="${e2}"><pre>${esc(e.body === null ? "" : JSON.stringify(e.body))}</pre></td></tr>`);
      const more = this.page.total > this.page.entries.length ? `<button type="button" data-more>${esc(app.tr("more"))}</button>` : "";
      const heads = ["at", "actor", "action", "status", "body"].map((k) => `<th scope="col">${esc(app.tr(k))}</th>`).join("");
      return `<section class="card"><h2>${esc(app.tr("audit"))}</h2>${rows.length ? `<table><thead><tr>${heads}</tr></thead>
        <tbody>${rows.join("")}</tbody></table>` : `<p>${esc(app.tr("noneYet"))}</p>`}${more}</section>`;
    },
    bind(root) {
      root.querySelector("[data-more]")?.addEventListener("click", async () => { this.shown += 50; await app.show(); });
    },
  };
}
