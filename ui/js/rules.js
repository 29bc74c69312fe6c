// Case rules as the page applies them while a person edits: which fields are required or
// hidden, and which options a SingleSelect field offers. The server enforces the same rules
// (README, "Case rules"); evaluating them here only spares the person a round trip.

const isEmpty = (v) => !v || "emptyValue" in v || (v.stringValue ?? null) === "";

function equal(value, operand) {
  if ("emptyValue" in operand) return isEmpty(value);
  if (isEmpty(value)) return false;
  if ("stringValue" in operand) return value.stringValue === operand.stringValue;
  if ("doubleValue" in operand) return value.doubleValue === operand.doubleValue;
  if ("booleanValue" in operand) return value.booleanValue === operand.booleanValue;
  return false;
}

/** What a condition decides (its `result`), or undefined when it decides nothing. */
export function decide(condition, values) {
  const [kind, body] = Object.entries(condition)[0] || [];
  if (kind === "equalTo" || kind === "notEqualTo") {
    const eq = equal(values.get(body.operandOne.fieldId), body.operandTwo);
    return (kind === "equalTo" ? eq : !eq) ? body.result : undefined;
  }
  const children = body?.conditions || [];
  if (kind === "orAll") {
    for (const c of children) {
      const d = decide(c, values);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (kind === "andAll") {
    const ds = children.map((c) => decide(c, values));
    return ds.length && ds.every((d) => d !== undefined) ? ds[0] : undefined;
  }
  return undefined;
}

function flag(rule, values) {
  for (const c of rule.conditions || []) {
    const d = decide(c, values);
    if (d !== undefined) return d;
  }
  return !!rule.defaultValue;
}

/**
 * Applies a template's rules ([{fieldId, rule}]) to the values being edited.
 * Returns {required: Set, hidden: Set, allowed: Map fieldId → Set of option values}.
 */
export function apply(rules, values, requiredFields = []) {
  const required = new Set(["title", ...requiredFields]);
  const hidden = new Set();
  const allowed = new Map();
  for (const { fieldId, rule } of rules) {
    if (rule.required && fieldId && flag(rule.required, values)) required.add(fieldId);
    if (rule.hidden && fieldId && flag(rule.hidden, values)) hidden.add(fieldId);
    const fo = rule.fieldOptions;
    if (fo) {
      const child = fo.childFieldId || fieldId;
      const parentValue = values.get(fo.parentFieldId);
      const key = isEmpty(parentValue) ? "" : parentValue.stringValue ?? "";
      const maps = (fo.parentChildFieldOptionsMappings || []).filter((m) => (m.parentFieldOptionValue ?? "") === key);
      if (maps.length) {
        const set = allowed.get(child) || new Set(maps.flatMap((m) => m.childFieldOptionValues || []));
        allowed.set(child, new Set([...set].filter((v) => maps.some((m) => (m.childFieldOptionValues || []).includes(v)))));
      }
    }
  }
  return { required, hidden, allowed };
}

export { isEmpty };
