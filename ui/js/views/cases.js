// The case list: free text (`searchTerm`), quick filters (status, queue, assignee), a filter
// builder over any field with the operators its type allows, sort by any field, and pages with
// the total count. Everything is one SearchCases call; the state is kept per domain while the
// person visits cases. With the domain's events on, the shown page is searched again when a case
// changes, new and changed rows marked, the form and the scroll position left as they are.
import { h, replace, notice, errorText } from "../dom.js";
import * as schema from "../schema.js";
import * as values from "../values.js";
import { followDomain, coalesce } from "../live.js";

const COLUMNS = ["title", "reference_number", "status", "assigned_user", "last_updated_datetime"];
const PAGE = 25;
const states = new Map();

/** Operators a field type allows, as [key, label]; the server refuses the others. */
export function operatorsFor(type) {
  const ops = [["equalTo", "is"], ["notEqualTo", "is not"]];
  if (type === "Text" || type === "Url") ops.push(["contains", "contains"], ["notContains", "does not contain"]);
  if (type === "Number" || type === "DateTime") {
    ops.push(["greaterThan", ">"], ["greaterThanOrEqualTo", "≥"], ["lessThan", "<"], ["lessThanOrEqualTo", "≤"]);
  }
  ops.push(["empty", "is empty"], ["notEmpty", "has a value"]);
  return ops;
}

/** One builder row as a CaseFilter. */
export function rowFilter(row) {
  const leaf = (op, value) => ({ field: { [op]: { id: row.fieldId, value } } });
  switch (row.op) {
    case "empty": return leaf("equalTo", { emptyValue: {} });
    case "notEmpty": return { not: leaf("equalTo", { emptyValue: {} }) };
    case "notEqualTo": return { not: leaf("equalTo", row.value) };
    case "notContains": return { not: leaf("contains", row.value) };
    default: return leaf(row.op, row.value);
  }
}

function stateOf(domainId) {
  if (!states.has(domainId)) {
    states.set(domainId, {
      searchTerm: "", status: "", queue: "", assignee: "", rows: [], join: "andAll",
      sortField: "last_updated_datetime", sortOrder: "Desc", tokens: [undefined], page: 0,
    });
  }
  return states.get(domainId);
}

const val = (c, id) => c.fields.find((f) => f.id === id)?.value;

function filterOf(st) {
  const parts = [];
  if (st.status) parts.push({ field: { equalTo: { id: "status", value: { stringValue: st.status } } } });
  if (st.queue) parts.push({ field: { equalTo: { id: "assigned_queue", value: { stringValue: st.queue } } } });
  if (st.assignee) parts.push({ field: { equalTo: { id: "assigned_user", value: { userArnValue: st.assignee } } } });
  const rows = st.rows.filter((r) => r.fieldId && r.value !== undefined).map(rowFilter);
  if (rows.length === 1) parts.push(rows[0]);
  else if (rows.length > 1) parts.push({ [st.join]: rows });
  if (!parts.length) return undefined;
  return parts.length === 1 ? parts[0] : { andAll: parts };
}

export async function casesView(main, ctx) {
  const { api, domainId } = ctx;
  const st = stateOf(domainId);
  const results = h("section", { class: "results", "aria-live": "polite", "aria-busy": "true" }, notice("loading", "Loading cases…"));
  const error = h("p", { class: "field-error", role: "alert" });
  const searchBox = h("input", { id: "search-term", type: "search", value: st.searchTerm, placeholder: "Search cases", "aria-label": "Search cases" });
  const statusSel = h("select", { id: "quick-status", "aria-label": "Status" }, h("option", { value: "" }, "Any status"));
  const queueBox = h("input", { id: "quick-queue", value: st.queue, placeholder: "Queue ARN", "aria-label": "Queue", spellcheck: "false" });
  const userBox = h("input", { id: "quick-assignee", value: st.assignee, placeholder: "Assignee user ARN", "aria-label": "Assignee", spellcheck: "false" });
  const sortSel = h("select", { id: "sort-field", "aria-label": "Sort by" });
  const orderSel = h("select", { id: "sort-order", "aria-label": "Sort order" },
    h("option", { value: "Desc", selected: st.sortOrder === "Desc" }, "Descending"),
    h("option", { value: "Asc", selected: st.sortOrder === "Asc" }, "Ascending"));
  const builder = h("div", { class: "builder" });
  const joinSel = h("select", { id: "filter-join", "aria-label": "Combine filters" },
    h("option", { value: "andAll", selected: st.join === "andAll" }, "all of"),
    h("option", { value: "orAll", selected: st.join === "orAll" }, "any of"));

  const form = h("form", { class: "search", role: "search" },
    h("div", { class: "search-row" }, searchBox, h("button", { type: "submit" }, "Search")),
    h("div", { class: "quick" }, statusSel, queueBox, userBox,
      h("label", { class: "inline" }, "Sort ", sortSel), orderSel),
    h("fieldset", { class: "filters" }, h("legend", {}, "Filters: cases matching ", joinSel, " these"),
      builder,
      h("button", { type: "button", class: "secondary small", id: "add-filter", onclick: () => { st.rows.push({ fieldId: "", op: "equalTo" }); drawBuilder(); } }, "Add filter")),
    error);

  const live = h("span", { class: "live", id: "live-state" });
  replace(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Cases"), live),
    h("a", { class: "button", href: `#/d/${domainId}/new` }, "New case")), form, results);

  // The first page does not wait for the schema: both requests go out at once.
  const fieldsP = schema.fields(api, domainId);
  const statusP = schema.options(api, domainId, "status").catch(() => []);
  let fieldMap = new Map();
  let statusOptions = [];

  function drawBuilder() {
    const fieldsSorted = [...fieldMap.values()].sort((a, b) => a.name.localeCompare(b.name));
    replace(builder, st.rows.map((row, i) => {
      const f = fieldMap.get(row.fieldId);
      const fieldSel = h("select", { "aria-label": `Filter ${i + 1} field`, class: "filter-field" },
        h("option", { value: "" }, "Field…"),
        fieldsSorted.map((x) => h("option", { value: x.fieldId, selected: x.fieldId === row.fieldId }, `${x.name} (${x.type})`)));
      fieldSel.addEventListener("change", () => { row.fieldId = fieldSel.value; row.op = "equalTo"; row.value = undefined; drawBuilder(); });
      const ops = operatorsFor(f?.type);
      const opSel = h("select", { "aria-label": `Filter ${i + 1} operator`, class: "filter-op" },
        ops.map(([k, label]) => h("option", { value: k, selected: k === row.op }, label)));
      opSel.addEventListener("change", () => { row.op = opSel.value; drawBuilder(); });
      let valueEl = h("span");
      if (f && row.op !== "empty" && row.op !== "notEmpty") {
        const textual = row.op === "contains" || row.op === "notContains";
        const inp = values.input(textual ? { ...f, type: "Text", attributes: null } : f, row.value,
          { options: f.options || [] });
        inp.el.setAttribute("aria-label", `Filter ${i + 1} value`);
        inp.el.classList.add("filter-value");
        const update = () => { try { const v = inp.read(); row.value = "emptyValue" in v ? undefined : v; } catch { row.value = undefined; } };
        inp.el.addEventListener("input", update);
        inp.el.addEventListener("change", update);
        valueEl = inp.el;
        if (f.type === "SingleSelect" && !f.options) {
          schema.options(api, domainId, f.fieldId).then((o) => { f.options = o; drawBuilder(); }).catch(() => {});
        }
      } else if (f) {
        row.value = null;
      }
      return h("div", { class: "filter-row" }, fieldSel, opSel, valueEl,
        h("button", { type: "button", class: "secondary small", "aria-label": `Remove filter ${i + 1}`, onclick: () => { st.rows.splice(i, 1); drawBuilder(); } }, "Remove"));
    }));
  }

  let seq = 0;
  let last = null;
  /** quiet: a refresh of the page shown (after a change elsewhere), not a new search. */
  async function search(quiet = false) {
    const mine = ++seq;
    if (!quiet) { results.setAttribute("aria-busy", "true"); shown = null; changed.clear(); }
    error.textContent = "";
    const input = {
      domainId, maxResults: PAGE, fields: COLUMNS.map((id) => ({ id })),
      searchTerm: st.searchTerm || undefined, filter: filterOf(st),
      sorts: [{ fieldId: st.sortField, sortOrder: st.sortOrder }],
      nextToken: st.tokens[st.page],
    };
    try {
      const r = await api.call("SearchCases", input);
      if (mine !== seq || ctx.signal.aborted) return;
      st.tokens[st.page + 1] = r.nextToken;
      const y = window.scrollY;
      draw(r);
      if (quiet) window.scrollTo(window.scrollX, y);
    } catch (e) {
      if (mine !== seq) return;
      results.removeAttribute("aria-busy");
      replace(results, notice("error", errorText(e)));
    }
  }

  // caseId → its last update as last drawn, and the cases refreshes brought or changed since
  // the person last searched: those rows stay marked until the next search.
  let shown = null;
  const changed = new Set();
  function draw(r) {
    last = r;
    const cases = (r.cases || []).filter(Boolean);
    const before = shown;
    shown = new Map(cases.map((c) => [c.caseId, JSON.stringify(val(c, "last_updated_datetime"))]));
    for (const c of cases) if (before && before.get(c.caseId) !== shown.get(c.caseId)) changed.add(c.caseId);
    const fresh = (c) => changed.has(c.caseId);
    const total = r.totalCount ?? cases.length;
    const from = st.page * PAGE + 1;
    const cell = (c, id) => values.display(fieldMap.get(id) || { type: id.endsWith("datetime") ? "DateTime" : "Text" }, val(c, id), id === "status" ? statusOptions : null);
    results.removeAttribute("aria-busy");
    replace(results,
      h("div", { class: "result-head" },
        h("p", { id: "total-count" }, total === 1 ? "1 case" : `${total.toLocaleString()} cases`),
        cases.length ? h("p", { class: "range" }, `${from}–${from + cases.length - 1} of ${total.toLocaleString()}`) : null),
      cases.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "list cases" },
          h("thead", {}, h("tr", {}, ["Title", "Reference", "Status", "Assignee", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, cases.map((c) => h("tr", { class: fresh(c) ? "updated" : false, "data-case-id": c.caseId },
            h("td", { "data-label": "Title" }, h("a", { href: `#/d/${domainId}/case/${c.caseId}` }, cell(c, "title") || "(no title)")),
            h("td", { "data-label": "Reference", class: "mono" }, cell(c, "reference_number")),
            h("td", { "data-label": "Status" }, h("span", { class: `pill status-${val(c, "status")?.stringValue || "none"}` }, cell(c, "status"))),
            h("td", { "data-label": "Assignee", class: "ellipsis" }, cell(c, "assigned_user")),
            h("td", { "data-label": "Updated" }, cell(c, "last_updated_datetime")))))))
        : notice("empty", st.searchTerm || filterOf(st) ? "No cases match this search." : "No cases in this domain yet."),
      h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", class: "secondary", disabled: st.page === 0, onclick: () => { st.page--; search(); } }, "Previous"),
        h("button", { type: "button", class: "secondary", disabled: !r.nextToken, onclick: () => { st.page++; search(); } }, "Next")));
    if (!performance.getEntriesByName("caselist:first-screen").length) performance.mark("caselist:first-screen");
  }

  const restart = () => { st.tokens = [undefined]; st.page = 0; search(); };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    st.searchTerm = searchBox.value.trim();
    st.queue = queueBox.value.trim();
    st.assignee = userBox.value.trim();
    restart();
  });
  statusSel.addEventListener("change", () => { st.status = statusSel.value; restart(); });
  sortSel.addEventListener("change", () => { st.sortField = sortSel.value; restart(); });
  orderSel.addEventListener("change", () => { st.sortOrder = orderSel.value; restart(); });
  joinSel.addEventListener("change", () => { st.join = joinSel.value; });

  search();
  const refresh = coalesce(() => search(true));
  followDomain(ctx, live, (d) => { if (d.case) refresh(); });
  try {
    [fieldMap, statusOptions] = await Promise.all([fieldsP, statusP]);
  } catch (e) {
    error.textContent = errorText(e);
    return;
  }
  for (const o of statusOptions) statusSel.append(h("option", { value: o.value, selected: o.value === st.status }, o.name));
  for (const f of [...fieldMap.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    sortSel.append(h("option", { value: f.fieldId, selected: f.fieldId === st.sortField }, f.name));
  }
  drawBuilder();
  // Status names and value types arrived after the first page was drawn with raw values.
  if (last) draw(last);
}
