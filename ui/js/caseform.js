// A case's fields laid out by its template's layout (top panel, then "more info"), each shown
// and edited by its type, with the template's case rules applied as the person types: required
// marks, hidden fields, and single-selects limited to the options the rules allow.
import { h, replace } from "./dom.js";
import * as values from "./values.js";
import * as rules from "./rules.js";
import { SERVER_WRITTEN } from "./schema.js";

/**
 * sections: [{name, ids}]; initial: Map fieldId → FieldValueUnion.
 * Returns {el, changes(), values(), refresh(Map), error(fieldId, message), clearErrors()}.
 */
export function caseForm({ fieldMap, optionsMap, sections, initial, caseRules = [], requiredFields = [], onChange = () => {} }) {
  const rows = new Map();
  let original = new Map(initial);

  function current() {
    const out = new Map(original);
    for (const [id, row] of rows) {
      if (!row.inp) continue;
      try { out.set(id, row.inp.read()); } catch { /* an unreadable entry counts as unchanged here */ }
    }
    return out;
  }

  function buildInput(row, value) {
    const state = rules.apply(caseRules, current(), requiredFields);
    row.allowed = state.allowed.get(row.id) || null;
    const inp = values.input(row.field, value, {
      id: `f-${row.id}`, options: optionsMap.get(row.id) || [], allowed: row.allowed,
    });
    inp.el.setAttribute("aria-describedby", `err-${row.id}`);
    // An error belongs to the value that caused it: editing the field clears it.
    inp.el.addEventListener("input", () => { row.err.textContent = ""; row.el.classList.remove("invalid"); });
    inp.el.addEventListener("input", changed);
    inp.el.addEventListener("change", changed);
    row.inp = inp;
    replace(row.slot, inp.el);
  }

  function makeRow(id) {
    const field = fieldMap.get(id) || { fieldId: id, name: id, type: "Text" };
    const row = { id, field, slot: h("div", { class: "slot" }), mark: h("span", { class: "req", "aria-hidden": "true" }), err: h("p", { class: "field-error", id: `err-${id}`, role: "alert" }) };
    row.el = h("div", { class: "field", "data-field-id": id },
      h("label", { for: `f-${id}` }, field.name, row.mark, h("span", { class: "type" }, field.type)), row.slot, row.err);
    rows.set(id, row);
    if (SERVER_WRITTEN.has(id)) {
      row.readOnly = true;
      replace(row.slot, h("output", { id: `f-${id}`, class: "readonly" }, values.display(field, original.get(id), optionsMap.get(id)) || "—"));
    } else {
      buildInput(row, original.get(id));
    }
    return row.el;
  }

  function applyRules() {
    const state = rules.apply(caseRules, current(), requiredFields);
    for (const [id, row] of rows) {
      const required = state.required.has(id);
      row.mark.textContent = required ? " *" : "";
      row.el.classList.toggle("required", required);
      row.el.hidden = state.hidden.has(id) && !required;
      if (row.inp && row.field.type === "SingleSelect") {
        const allowed = state.allowed.get(id) || null;
        const key = (s) => (s ? [...s].sort().join("\u0000") : null);
        if (key(allowed) !== key(row.allowed)) {
          const keep = row.inp.read();
          buildInput(row, keep);
        }
      }
    }
  }

  function changed() {
    applyRules();
    for (const [, row] of rows) row.el.classList.toggle("dirty", isDirty(row));
    onChange();
  }

  function isDirty(row) {
    if (!row.inp) return false;
    try { return !values.same(row.inp.read(), original.get(row.id)); } catch { return true; }
  }

  const el = h("div", { class: "case-form" }, sections.filter((s) => s.ids.length).map((s) =>
    h("section", { class: "panel", "aria-label": s.name || "Fields" },
      s.name ? h("h2", {}, s.name) : null,
      h("div", { class: "grid" }, s.ids.map(makeRow)))));
  applyRules();

  return {
    el,
    /** Changed values as [{id, value}]; throws {fieldId, message} for an unreadable entry. */
    changes() {
      const out = [];
      for (const [id, row] of rows) {
        if (!row.inp) continue;
        let v;
        try { v = row.inp.read(); } catch (e) { throw Object.assign(new Error(e.message), { fieldId: id }); }
        if (!values.same(v, original.get(id))) out.push({ id, value: v });
      }
      return out;
    },
    /** New stored values (after a save or a change elsewhere): inputs the person has not
     * touched take them; inputs being edited keep what the person typed. */
    refresh(next) {
      for (const [id, row] of rows) {
        const dirty = isDirty(row);
        if (row.readOnly) {
          replace(row.slot, h("output", { id: `f-${id}`, class: "readonly" }, values.display(row.field, next.get(id), optionsMap.get(id)) || "—"));
        } else if (!dirty && !values.same(next.get(id), original.get(id))) {
          buildInput(row, next.get(id));
          row.el.classList.add("updated");
          setTimeout(() => row.el.classList.remove("updated"), 2000);
        }
      }
      original = new Map(next);
      for (const [, row] of rows) row.el.classList.toggle("dirty", isDirty(row));
      applyRules();
    },
    error(fieldId, message) {
      const row = rows.get(fieldId);
      if (!row) return false;
      // The API names fields by id; the person knows them by name.
      row.err.textContent = message.replaceAll(`'${fieldId}'`, `'${row.field.name}'`);
      row.el.classList.add("invalid");
      row.el.hidden = false;
      return true;
    },
    clearErrors() {
      for (const [, row] of rows) { row.err.textContent = ""; row.el.classList.remove("invalid"); }
    },
    has: (id) => rows.has(id),
    focus(id) { document.getElementById(`f-${id}`)?.focus(); },
  };
}
