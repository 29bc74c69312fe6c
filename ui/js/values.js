// Field values (the model's FieldValueUnion) shown and edited by field type.
import { h } from "./dom.js";
import { isEmpty } from "./rules.js";

/** A value as a person reads it. */
export function display(field, value, options) {
  if (isEmpty(value)) return "";
  if ("booleanValue" in value) return value.booleanValue ? "Yes" : "No";
  if ("doubleValue" in value) return String(value.doubleValue);
  if ("userArnValue" in value) return value.userArnValue;
  const s = value.stringValue;
  if (field?.type === "DateTime") {
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString();
  }
  if (field?.type === "SingleSelect" && options) {
    const o = options.find((o) => o.value === s);
    if (o) return o.name;
  }
  return s;
}

const pad = (n) => String(n).padStart(2, "0");

/** ISO-8601 → the `datetime-local` input's local-time form. */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * An input for a field of the given type. Returns {el, read()} where read() gives the
 * FieldValueUnion (emptyValue when cleared) or throws a message for an unreadable entry.
 * `allowed` (a Set) limits a SingleSelect to the options the case rules allow.
 */
export function input(field, value, { id, options = [], allowed = null, disabled = false } = {}) {
  const type = field?.type || "Text";
  const common = { id, name: field?.fieldId, disabled, "data-type": type };
  let el;
  let read;
  const current = isEmpty(value) ? null : value;
  switch (type) {
    case "Number":
      el = h("input", { ...common, type: "number", step: "any", value: current ? String(current.doubleValue) : "" });
      read = () => {
        if (el.value.trim() === "") return { emptyValue: {} };
        const n = Number(el.value);
        if (!Number.isFinite(n)) throw new Error("Enter a number");
        return { doubleValue: n };
      };
      break;
    case "Boolean": {
      const v = current ? String(current.booleanValue) : "";
      el = h("select", common,
        h("option", { value: "", selected: v === "" }, "—"),
        h("option", { value: "true", selected: v === "true" }, "Yes"),
        h("option", { value: "false", selected: v === "false" }, "No"));
      read = () => (el.value === "" ? { emptyValue: {} } : { booleanValue: el.value === "true" });
      break;
    }
    case "DateTime":
      el = h("input", { ...common, type: "datetime-local", value: current ? toLocalInput(current.stringValue) : "" });
      read = () => {
        if (!el.value) return { emptyValue: {} };
        const d = new Date(el.value);
        if (isNaN(d)) throw new Error("Enter a date and time");
        // Keep the stored value when the person did not change the minute it shows.
        if (current && toLocalInput(current.stringValue) === el.value) return current;
        return { stringValue: d.toISOString() };
      };
      break;
    case "SingleSelect": {
      const chosen = current?.stringValue ?? "";
      const offered = options
        .filter((o) => o.value === chosen || (o.active !== false && (!allowed || allowed.has(o.value))))
        .sort((a, b) => a.name.localeCompare(b.name));
      el = h("select", common, h("option", { value: "" }, "—"),
        offered.map((o) => h("option", { value: o.value, selected: o.value === chosen },
          o.name + (o.active === false ? " (inactive)" : ""))));
      read = () => (el.value === "" ? { emptyValue: {} } : { stringValue: el.value });
      break;
    }
    case "User":
      el = h("input", { ...common, type: "text", value: current?.userArnValue ?? "", placeholder: "arn:aws:connect:…:instance/…/agent/…", spellcheck: "false" });
      read = () => (el.value.trim() === "" ? { emptyValue: {} } : { userArnValue: el.value.trim() });
      break;
    case "Url":
      el = h("input", { ...common, type: "url", value: current?.stringValue ?? "", placeholder: "https://" });
      read = () => (el.value.trim() === "" ? { emptyValue: {} } : { stringValue: el.value.trim() });
      break;
    default: {
      const multiline = field?.attributes?.text?.isMultiline || field?.fieldId === "summary";
      el = multiline
        ? h("textarea", { ...common, rows: 3 }, current?.stringValue ?? "")
        : h("input", { ...common, type: "text", value: current?.stringValue ?? "" });
      read = () => (el.value === "" ? { emptyValue: {} } : { stringValue: el.value });
    }
  }
  return { el, read };
}

/** True when two FieldValueUnions hold the same value. */
export function same(a, b) {
  if (isEmpty(a) && isEmpty(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}
