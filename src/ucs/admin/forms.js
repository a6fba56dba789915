// Forms built from a list of fields, whose refusals are shown beside the field they name.

import { ta } from "../operator/i18n.js";

// The server's refusals of a field's value (pydantic's words, in English) that a person meets
// most, in the page's language: the key of their words in ADMIN_TEXT and the number in them.
const REFUSALS = [
  [/^(?:String should have at least 1 character|Field required)$/, "v.required"],
  [/^String should have at least (\d+) characters$/, "v.atLeastChars"],
  [/^String should have at most (\d+) characters$/, "v.atMostChars"],
  [/^Input should be greater than or equal to (\S+)$/, "v.atLeast"],
  [/^Input should be less than or equal to (\S+)$/, "v.atMost"],
  [/^Input should be a valid integer/, "v.integer"],
];

export function explain(message) {
  const lang = document.documentElement.lang === "cs" ? "cs" : "en";
  for (const [pattern, key] of REFUSALS) {
    const found = pattern.exec(String(message));
    if (found) return ta(lang, key).replace("{n}", found[1] || "");
  }
  return message;
}

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// A field: {name, kind: text|password|number|select|checkbox|checks|lines, label, options:
// [[value, label]], required, hint, nullable (empty sends null), step; for lines (a textarea):
// format (the value as text) and parse (the text as the value)}
function control(f, value, id) {
  const common = `id="${id}" name="${esc(f.name)}" aria-describedby="${id}-error${f.hint ? ` ${id}-hint` : ""}"`;
  if (f.kind === "lines") return `<textarea ${common} rows="5" spellcheck="false">${esc(f.format(value))}</textarea>`;
  if (f.kind === "select") {
    const options = f.options.map(([v, l]) => `<option value="${esc(v)}"${String(v) === String(value ?? "") ? " selected" : ""}>${esc(l)}</option>`);
    return `<select ${common}>${options.join("")}</select>`;
  }
  if (f.kind === "checkbox") return `<input type="checkbox" ${common}${value ? " checked" : ""}>`;
  const type = f.kind === "password" ? "password" : f.kind === "number" ? "number" : "text";
  const extra = f.kind === "number" ? ` step="${f.step || "any"}" inputmode="decimal"` : "";
  const auto = f.kind === "password" ? ' autocomplete="new-password"' : ' autocomplete="off"';
  return `<input type="${type}" ${common} value="${esc(value ?? "")}"${extra}${auto}${f.required ? " required" : ""}>`;
}

export function formHtml(id, fields, values, submitLabel, cancelLabel) {
  const parts = fields.map((f) => {
    const fid = `${id}-${f.name}`;
    const error = `<span class="error" id="${fid}-error" data-error="${esc(f.name)}"></span>`;
    const hint = f.hint ? `<span class="hint" id="${fid}-hint">${esc(f.hint)}</span>` : "";
    if (f.kind === "checks") {
      const chosen = new Set((values[f.name] || []).map(String));
      const boxes = f.options.map(([v, l]) => `<label class="check"><input type="checkbox" name="${esc(f.name)}" value="${esc(v)}"${chosen.has(String(v)) ? " checked" : ""}> ${esc(l)}</label>`);
      return `<fieldset aria-describedby="${fid}-error"><legend>${esc(f.label)}</legend>${boxes.join("") || "—"}${error}</fieldset>`;
    }
    if (f.kind === "checkbox") {
      return `<label class="check" for="${fid}">${control(f, values[f.name], fid)} ${esc(f.label)}${error}</label>`;
    }
    return `<label for="${fid}">${esc(f.label)}${control(f, values[f.name], fid)}${hint}${error}</label>`;
  });
  const cancel = cancelLabel ? `<button type="button" data-cancel>${esc(cancelLabel)}</button>` : "";
  return `<form class="grid" id="${id}" novalidate>${parts.join("")}
    <div class="buttons"><button type="submit" class="primary">${esc(submitLabel)}</button>${cancel}</div>
    <p class="error" data-error="" role="alert"></p></form>`;
}

// The form's values: text as typed (empty: left out, or null when `nullable`), numbers as
// numbers, checkboxes as booleans, check lists as arrays.
export function formValues(form, fields) {
  const values = {};
  for (const f of fields) {
    if (f.kind === "checks") {
      values[f.name] = [...form.querySelectorAll(`input[name="${f.name}"]:checked`)].map((i) => (f.int ? Number(i.value) : i.value));
      continue;
    }
    const input = form.elements.namedItem(f.name);
    if (f.kind === "lines") {
      values[f.name] = f.parse(input.value);
      continue;
    }
    if (f.kind === "checkbox") {
      values[f.name] = input.checked;
      continue;
    }
    const raw = input.value.trim();
    if (raw === "") {
      if (f.nullable) values[f.name] = null;
      continue;
    }
    values[f.name] = f.kind === "number" || f.int ? Number(raw) : raw;
  }
  return values;
}

// Show an ApiError (or any error) on the form: each field's message beside it, the rest below.
export function showErrors(form, error, fallback) {
  clearErrors(form);
  const fields = (error && error.fields) || {};
  let placed = false;
  for (const [name, message] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error="${CSS.escape(name)}"]`);
    if (!slot) continue;
    slot.textContent = explain(message);
    const input = form.elements.namedItem(name);
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    placed = true;
  }
  const unplaced = Object.entries(fields).filter(([name]) => !form.querySelector(`[data-error="${CSS.escape(name)}"]`));
  const general = [...unplaced.map(([n, m]) => `${n}: ${explain(m)}`), ...((error && error.general) || [])];
  if (!general.length && !placed) general.push((error && error.message) || String(error));
  form.querySelector('[data-error=""]').textContent = general.join(" ") || (placed ? fallback : "");
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error]")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
