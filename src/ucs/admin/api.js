// The REST API as the web admin calls it: the token of the sign-in (a superuser's admin
// session, or the admin token) on every request, and refusals turned into messages by field.

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : "");
    this.status = status;
    this.fields = {}; // field name -> message (422 from validation, 409 "field: …")
    this.general = [];
    if (Array.isArray(detail)) {
      for (const e of detail) {
        const loc = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body") : [];
        const field = typeof loc[0] === "string" ? loc[0] : null;
        // Where in a list field (["dispositions", 0, "code"]): "#1 code: …".
        const where = loc.slice(1).map((p) => (typeof p === "number" ? `#${p + 1}` : p)).join(" ");
        const text = (where ? `${where}: ` : "") + String(e.msg || "").replace(/^Value error, /, "");
        if (field) this.fields[field] = this.fields[field] ? `${this.fields[field]}; ${text}` : text;
        else this.general.push(text);
      }
      this.message = [...Object.entries(this.fields).map(([f, m]) => `${f}: ${m}`), ...this.general].join("\n");
    } else if (typeof detail === "string") {
      const m = /^([a-z_]+): (.*)$/s.exec(detail);
      if (m) this.fields[m[1]] = m[2];
      else this.general.push(detail);
    }
  }
}

export class Api {
  constructor(storage = window.sessionStorage) {
    this.storage = storage;
    this.token = storage.getItem("ucsAdminToken") || "";
  }

  signedIn(token) {
    this.token = token;
    this.storage.setItem("ucsAdminToken", token);
  }

  signedOut() {
    this.token = "";
    this.storage.removeItem("ucsAdminToken");
  }

  async call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 204) return null;
    let data = null;
    try {
      data = await r.json();
    } catch (err) {
      data = null;
    }
    if (!r.ok) throw new ApiError(r.status, data && data.detail !== undefined ? data.detail : r.statusText);
    return data;
  }

  get(path) { return this.call("GET", path); }
  post(path, body) { return this.call("POST", path, body); }
  put(path, body) { return this.call("PUT", path, body); }
  patch(path, body) { return this.call("PATCH", path, body); }
  remove(path) { return this.call("DELETE", path); }
}
