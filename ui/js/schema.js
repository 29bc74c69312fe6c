// A domain's schema as the views need it: fields by id (with SingleSelect options, inactive ones
// included), templates, layouts and case rules, loaded through the public API and cached per
// domain until an admin view changes something.

const cache = new Map();

/** Fields the server writes itself; the page shows them but offers no input for them. */
export const SERVER_WRITTEN = new Set([
  "case_id", "reference_number", "created_datetime", "last_updated_datetime", "last_closed_datetime",
  "last_reopened_datetime", "next_sla_breach_datetime", "last_updated_user",
]);

export function invalidate(domainId) {
  cache.delete(domainId);
}

async function loadFields(api, domainId) {
  const list = await api.all("ListFields", { domainId }, "fields");
  const byId = new Map(list.map((f) => [f.fieldId, { ...f, options: null }]));
  // Multi-line text and descriptions come with BatchGetField (ListFields has no description).
  const ids = [...byId.keys()];
  const batches = [];
  for (let i = 0; i < ids.length; i += 50) {
    batches.push(api.call("BatchGetField", { domainId, fields: ids.slice(i, i + 50).map((id) => ({ id })) }));
  }
  for (const b of await Promise.all(batches)) for (const f of b.fields || []) Object.assign(byId.get(f.fieldId) || {}, f);
  return byId;
}

/** The fields of a domain, by id; options of SingleSelect fields are loaded on demand. */
export async function fields(api, domainId) {
  const entry = cache.get(domainId) || {};
  cache.set(domainId, entry);
  entry.fields ??= loadFields(api, domainId).catch((e) => { entry.fields = null; throw e; });
  return entry.fields;
}

/** A SingleSelect field's options (active and inactive), cached with the schema. */
export async function options(api, domainId, fieldId) {
  const entry = cache.get(domainId) || {};
  cache.set(domainId, entry);
  entry.options ??= new Map();
  if (!entry.options.has(fieldId)) {
    entry.options.set(fieldId, api.all("ListFieldOptions", { domainId, fieldId }, "options")
      .catch((e) => { entry.options.delete(fieldId); throw e; }));
  }
  return entry.options.get(fieldId);
}

/** Every SingleSelect field's options among `ids`, as a Map fieldId → options. */
export async function optionsOf(api, domainId, fieldMap, ids) {
  const out = new Map();
  await Promise.all(ids.filter((id) => fieldMap.get(id)?.type === "SingleSelect")
    .map(async (id) => out.set(id, await options(api, domainId, id))));
  return out;
}

export async function template(api, domainId, templateId) {
  return api.call("GetTemplate", { domainId, templateId });
}

export async function layout(api, domainId, layoutId) {
  return api.call("GetLayout", { domainId, layoutId });
}

export async function templates(api, domainId, status = ["Active", "Inactive"]) {
  return api.all("ListTemplates", { domainId, status }, "templates");
}

/** The case rules a template attaches, as [{caseRuleId, fieldId, rule}]. */
export async function rulesOf(api, domainId, tmpl) {
  const refs = tmpl.rules || [];
  if (!refs.length) return [];
  const ids = [...new Set(refs.map((r) => r.caseRuleId))];
  const got = new Map();
  for (let i = 0; i < ids.length; i += 50) {
    const r = await api.call("BatchGetCaseRule", { domainId, caseRules: ids.slice(i, i + 50).map((id) => ({ id })) });
    for (const c of r.caseRules || []) got.set(c.caseRuleId, c);
  }
  return refs.filter((r) => got.has(r.caseRuleId)).map((r) => ({ ...r, rule: got.get(r.caseRuleId).rule }));
}

/** The ids a layout shows, per panel: {top: [...], more: {name, ids}}. */
export function layoutPanels(lay) {
  const basic = lay?.content?.basic || {};
  const group = (panel) => panel?.sections?.[0]?.fieldGroup || { fields: [] };
  const top = group(basic.topPanel);
  const more = group(basic.moreInfo);
  return {
    top: { name: top.name || "", ids: (top.fields || []).map((f) => f.id) },
    more: { name: more.name || "More info", ids: (more.fields || []).map((f) => f.id) },
  };
}

/** How many recently updated cases the ARN suggestions are gathered from. */
const SEEN_FROM = 100;

/**
 * Queue and user ARNs seen on the domain's most recently updated cases, as {queues, users}:
 * caseload has no directory of Amazon Connect queues and users to offer, so the page suggests
 * what cases already carry. Two searches, cached with the schema.
 */
export async function seenArns(api, domainId) {
  const entry = cache.get(domainId) || {};
  cache.set(domainId, entry);
  const seen = async (id, member) => {
    const r = await api.call("SearchCases", {
      domainId, maxResults: SEEN_FROM, fields: [{ id }],
      filter: { not: { field: { equalTo: { id, value: { emptyValue: {} } } } } },
      sorts: [{ fieldId: "last_updated_datetime", sortOrder: "Desc" }],
    });
    const values = (r.cases || []).filter(Boolean).map((c) => c.fields.find((f) => f.id === id)?.value?.[member]).filter(Boolean);
    return [...new Set(values)].sort();
  };
  entry.arns ??= Promise.all([seen("assigned_queue", "stringValue"), seen("assigned_user", "userArnValue")])
    .then(([queues, users]) => ({ queues, users }))
    .catch((e) => { entry.arns = null; throw e; });
  return entry.arns;
}

/** The note that goes with ARN suggestions, wherever they are offered. */
export const ARN_NOTE = "Queue and user ARNs are suggested from the domain's recently updated cases: caseload has no directory of Amazon Connect queues and users, so any other ARN can be typed too.";
