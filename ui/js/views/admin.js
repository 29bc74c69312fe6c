// Administration of a domain's schema: fields (with their options, inactive ones included),
// layouts, templates and case rules, each listed, created, edited and deleted through the API.
import { h, replace, notice, errorText, confirmDialog } from "../dom.js";
import { ENUMS } from "../../generated/api.js";
import * as schema from "../schema.js";

const SECTIONS = [["fields", "Fields"], ["layouts", "Layouts"], ["templates", "Templates"], ["rules", "Case rules"], ["events", "Events"]];

function labelled(id, label, el) {
  el.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), el);
}

function saveBar(label, onSave, extra = []) {
  const err = h("p", { class: "field-error", role: "alert" });
  const ok = h("p", { class: "saved", role: "status" });
  const btn = h("button", { type: "submit" }, label);
  return {
    el: h("div", { class: "actions" }, err, ok, extra, btn),
    async run() {
      err.textContent = ""; ok.textContent = ""; btn.disabled = true;
      try { await onSave(); ok.textContent = "Saved."; } catch (e) { err.textContent = errorText(e); } finally { btn.disabled = false; }
    },
  };
}

/** An ordered list of field ids with add, move and remove; returns {el, ids()}. */
function fieldList(name, fieldsSorted, initial) {
  let ids = [...initial];
  const list = h("ol", { class: "field-list" });
  const add = h("select", { "aria-label": `Add a field to ${name}` });
  function draw() {
    replace(list, ids.map((id, i) => h("li", {},
      h("span", {}, schemaName(id)),
      h("button", { type: "button", class: "secondary small", "aria-label": `Move ${schemaName(id)} up`, disabled: i === 0, onclick: () => { [ids[i - 1], ids[i]] = [ids[i], ids[i - 1]]; draw(); } }, "↑"),
      h("button", { type: "button", class: "secondary small", "aria-label": `Move ${schemaName(id)} down`, disabled: i === ids.length - 1, onclick: () => { [ids[i + 1], ids[i]] = [ids[i], ids[i + 1]]; draw(); } }, "↓"),
      h("button", { type: "button", class: "secondary small", "aria-label": `Remove ${schemaName(id)}`, onclick: () => { ids.splice(i, 1); draw(); } }, "Remove"))));
    replace(add, h("option", { value: "" }, "Add a field…"),
      fieldsSorted.filter((f) => !ids.includes(f.fieldId)).map((f) => h("option", { value: f.fieldId }, `${f.name} (${f.type})`)));
  }
  const schemaName = (id) => fieldsSorted.find((f) => f.fieldId === id)?.name || id;
  add.addEventListener("change", () => { if (add.value) { ids.push(add.value); draw(); add.focus(); } });
  draw();
  return { el: h("div", { class: "field-list-editor" }, list, add), ids: () => [...ids] };
}

export async function adminView(main, ctx, section, itemId) {
  const { api, domainId } = ctx;
  const tabs = h("nav", { class: "tabs", "aria-label": "Admin sections" },
    SECTIONS.map(([k, label]) => h("a", { href: `#/d/${domainId}/admin/${k}`, "aria-current": k === section ? "page" : false }, label)));
  const body = h("div", {}, notice("loading", "Loading…"));
  replace(main, h("h1", {}, "Administration"), tabs, body);
  schema.invalidate(domainId);
  const fieldMap = await schema.fields(api, domainId);
  const fieldsSorted = [...fieldMap.values()].sort((a, b) => a.name.localeCompare(b.name));
  const open = (id) => ctx.go(`#/d/${domainId}/admin/${section}/${encodeURIComponent(id)}`);
  const views = { fields, layouts, templates, rules, events };
  await (views[section] || fields)();

  // ---- fields ----
  async function fields() {
    const name = h("input", { required: true });
    const type = h("select", {}, ENUMS.FieldType.map((t) => h("option", { value: t }, t)));
    const description = h("input", {});
    const multiline = h("input", { type: "checkbox" });
    const bar = saveBar("Create field", async () => {
      const r = await api.call("CreateField", {
        domainId, name: name.value.trim(), type: type.value, description: description.value || undefined,
        attributes: type.value === "Text" && multiline.checked ? { text: { isMultiline: true } } : undefined,
      });
      schema.invalidate(domainId);
      open(r.fieldId);
    });
    const create = h("form", { class: "card", id: "new-field" }, h("h2", {}, "New field"),
      h("div", { class: "row" }, labelled("new-field-name", "Name", name), labelled("new-field-type", "Type", type),
        labelled("new-field-description", "Description", description),
        h("div", { class: "field check" }, h("label", {}, multiline, " Multi-line text"))), bar.el);
    create.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    const table = h("div", { class: "table-wrap" }, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Name", "Id", "Type", "Namespace"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, fieldsSorted.map((f) => h("tr", { class: f.fieldId === itemId ? "selected" : "" },
        h("td", {}, h("a", { href: `#/d/${domainId}/admin/fields/${encodeURIComponent(f.fieldId)}` }, f.name)),
        h("td", { class: "mono" }, f.fieldId), h("td", {}, f.type), h("td", {}, f.namespace))))));
    replace(body, h("div", { class: "admin-layout" }, h("div", {}, create, table), itemId ? await fieldEditor(fieldMap.get(itemId)) : null));
  }

  async function fieldEditor(f) {
    if (!f) return notice("error", "This field does not exist (or was deleted).");
    const name = h("input", { value: f.name });
    const description = h("input", { value: f.description || "" });
    const bar = saveBar("Save field", async () => {
      await api.call("UpdateField", { domainId, fieldId: f.fieldId, name: name.value.trim(), description: description.value });
      schema.invalidate(domainId);
    }, [f.namespace === "Custom" && h("button", {
      type: "button", class: "danger", onclick: async () => {
        if (!(await confirmDialog(`Delete field “${f.name}”? Cases keep their values, but the field can no longer be set.`))) return;
        await api.call("DeleteField", { domainId, fieldId: f.fieldId }).then(() => { schema.invalidate(domainId); ctx.go(`#/d/${domainId}/admin/fields`); }, (e) => alertIn(form, e));
      },
    }, "Delete field")]);
    const form = h("form", { class: "card editor", id: "field-editor" }, h("h2", {}, `Field: ${f.name}`),
      h("p", { class: "hint" }, `${f.type} · ${f.namespace} · id `, h("code", {}, f.fieldId)),
      labelled("field-name", "Name", name), labelled("field-description", "Description", description), bar.el);
    form.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    if (f.type !== "SingleSelect") return form;
    const opts = await schema.options(api, domainId, f.fieldId);
    const rows = opts.map((o) => ({ ...o, original: { ...o } }));
    const tbody = h("tbody");
    function draw() {
      replace(tbody, rows.map((o, i) => h("tr", {},
        h("td", {}, h("input", { value: o.name, "aria-label": `Option ${i + 1} name`, oninput: (e) => { o.name = e.target.value; } })),
        h("td", {}, o.original ? h("code", {}, o.value) : h("input", { value: o.value, "aria-label": `Option ${i + 1} value`, oninput: (e) => { o.value = e.target.value; } })),
        h("td", {}, h("input", { type: "checkbox", checked: o.active, "aria-label": `Option ${i + 1} active`, onchange: (e) => { o.active = e.target.checked; } })))));
    }
    draw();
    const optBar = saveBar("Save options", async () => {
      const changed = rows.filter((o) => !o.original || o.name !== o.original.name || o.active !== o.original.active)
        .map((o) => ({ name: o.name.trim(), value: o.value.trim(), active: o.active }));
      for (let i = 0; i < changed.length; i += 50) {
        const r = await api.call("BatchPutFieldOptions", { domainId, fieldId: f.fieldId, options: changed.slice(i, i + 50) });
        if (r.errors?.length) throw new Error(r.errors.map((e) => `${e.value}: ${e.message}`).join("; "));
      }
      schema.invalidate(domainId);
      for (const o of rows) o.original = { ...o, original: undefined };
      draw();
    }, [h("button", { type: "button", class: "secondary", id: "add-option", onclick: () => { rows.push({ name: "", value: "", active: true }); draw(); tbody.querySelector("tr:last-child input").focus(); } }, "Add option")]);
    const optForm = h("form", { class: "card", id: "options-editor" }, h("h2", {}, "Options"),
      h("p", { class: "hint" }, "Options are never deleted: clear “active” to stop offering one; cases keep it."),
      h("div", { class: "table-wrap" }, h("table", { class: "list" }, h("thead", {}, h("tr", {}, ["Name", "Value", "Active"].map((c) => h("th", { scope: "col" }, c)))), tbody)),
      optBar.el);
    optForm.addEventListener("submit", (e) => { e.preventDefault(); optBar.run(); });
    return h("div", {}, form, optForm);
  }

  function alertIn(el, e) {
    el.querySelector(".field-error").textContent = errorText(e);
  }

  // ---- layouts ----
  async function layouts() {
    const list = await api.all("ListLayouts", { domainId }, "layouts");
    const side = h("div", {}, h("a", { class: "button", href: `#/d/${domainId}/admin/layouts/new` }, "New layout"),
      list.length ? h("ul", { class: "plain" }, list.map((l) => h("li", {}, h("a", { href: `#/d/${domainId}/admin/layouts/${l.layoutId}`, "aria-current": l.layoutId === itemId ? "page" : false }, l.name))))
        : notice("empty", "No layouts yet."));
    let editor = null;
    if (itemId) {
      const lay = itemId === "new" ? { name: "", content: { basic: {} } } : await schema.layout(api, domainId, itemId);
      const panels = schema.layoutPanels(lay);
      const name = h("input", { value: lay.name, required: true });
      const topName = h("input", { value: panels.top.name });
      const moreName = h("input", { value: itemId === "new" ? "More info" : panels.more.name });
      const placeable = fieldsSorted.filter((f) => f.fieldId !== "title" && f.fieldId !== "status");
      const top = fieldList("the top panel", placeable, panels.top.ids);
      const more = fieldList("more info", placeable, panels.more.ids);
      const bar = saveBar(itemId === "new" ? "Create layout" : "Save layout", async () => {
        const group = (n, ids) => ({ sections: [{ fieldGroup: { name: n.value || undefined, fields: ids.map((id) => ({ id })) } }] });
        const content = { basic: { topPanel: group(topName, top.ids()), moreInfo: group(moreName, more.ids()) } };
        if (itemId === "new") open((await api.call("CreateLayout", { domainId, name: name.value.trim(), content })).layoutId);
        else await api.call("UpdateLayout", { domainId, layoutId: itemId, name: name.value.trim(), content });
      }, [itemId !== "new" && h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmDialog(`Delete layout “${lay.name}”?`))) return;
        await api.call("DeleteLayout", { domainId, layoutId: itemId }).then(() => ctx.go(`#/d/${domainId}/admin/layouts`), (e) => alertIn(editor, e));
      } }, "Delete layout")]);
      editor = h("form", { class: "card editor", id: "layout-editor" }, h("h2", {}, itemId === "new" ? "New layout" : `Layout: ${lay.name}`),
        labelled("layout-name", "Name", name),
        h("fieldset", {}, h("legend", {}, "Top panel"), labelled("layout-top-name", "Section name", topName), top.el),
        h("fieldset", {}, h("legend", {}, "More info"), labelled("layout-more-name", "Section name", moreName), more.el),
        bar.el);
      editor.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    }
    replace(body, h("div", { class: "admin-layout" }, side, editor));
  }

  // ---- templates ----
  async function templates() {
    const [list, layoutsList, rulesList] = await Promise.all([
      schema.templates(api, domainId),
      api.all("ListLayouts", { domainId }, "layouts"),
      api.all("ListCaseRules", { domainId }, "caseRules"),
    ]);
    const side = h("div", {}, h("a", { class: "button", href: `#/d/${domainId}/admin/templates/new` }, "New template"),
      list.length ? h("ul", { class: "plain" }, list.map((t) => h("li", {}, h("a", { href: `#/d/${domainId}/admin/templates/${t.templateId}`, "aria-current": t.templateId === itemId ? "page" : false }, t.name), ` (${t.status})`)))
        : notice("empty", "No templates yet."));
    let editor = null;
    if (itemId) {
      const t = itemId === "new" ? { name: "", status: "Active" } : await schema.template(api, domainId, itemId);
      const name = h("input", { value: t.name, required: true });
      const description = h("input", { value: t.description || "" });
      const status = h("select", {}, ENUMS.TemplateStatus.map((s) => h("option", { value: s, selected: s === t.status }, s)));
      const layoutSel = h("select", {}, h("option", { value: "" }, "(none)"),
        layoutsList.map((l) => h("option", { value: l.layoutId, selected: l.layoutId === t.layoutConfiguration?.defaultLayout }, l.name)));
      const required = fieldList("the required fields", fieldsSorted, (t.requiredFields || []).map((r) => r.fieldId));
      const ruleRows = (t.rules || []).map((r) => ({ ...r }));
      const rulesBox = h("div", { class: "rule-rows" });
      function drawRules() {
        replace(rulesBox, ruleRows.map((r, i) => h("div", { class: "filter-row" },
          h("select", { "aria-label": `Rule ${i + 1}`, onchange: (e) => { r.caseRuleId = e.target.value; } },
            h("option", { value: "" }, "Case rule…"), rulesList.map((c) => h("option", { value: c.caseRuleId, selected: c.caseRuleId === r.caseRuleId }, `${c.name} (${c.ruleType})`))),
          h("span", {}, "on"),
          h("select", { "aria-label": `Rule ${i + 1} field`, onchange: (e) => { r.fieldId = e.target.value || undefined; } },
            h("option", { value: "" }, "(the rule's own fields)"), fieldsSorted.map((f) => h("option", { value: f.fieldId, selected: f.fieldId === r.fieldId }, f.name))),
          h("button", { type: "button", class: "secondary small", onclick: () => { ruleRows.splice(i, 1); drawRules(); } }, "Remove"))),
        h("button", { type: "button", class: "secondary small", id: "add-template-rule", onclick: () => { ruleRows.push({ caseRuleId: "" }); drawRules(); } }, "Attach a rule"));
      }
      drawRules();
      const bar = saveBar(itemId === "new" ? "Create template" : "Save template", async () => {
        const input = {
          domainId, name: name.value.trim(), description: description.value, status: status.value,
          layoutConfiguration: layoutSel.value ? { defaultLayout: layoutSel.value } : {},
          requiredFields: required.ids().map((fieldId) => ({ fieldId })),
          rules: ruleRows.filter((r) => r.caseRuleId).map((r) => ({ caseRuleId: r.caseRuleId, fieldId: r.fieldId })),
        };
        if (itemId === "new") open((await api.call("CreateTemplate", input)).templateId);
        else await api.call("UpdateTemplate", { ...input, templateId: itemId });
      }, [itemId !== "new" && h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmDialog(`Delete template “${t.name}”? Its cases stay.`))) return;
        await api.call("DeleteTemplate", { domainId, templateId: itemId }).then(() => ctx.go(`#/d/${domainId}/admin/templates`), (e) => alertIn(editor, e));
      } }, "Delete template")]);
      editor = h("form", { class: "card editor", id: "template-editor" }, h("h2", {}, itemId === "new" ? "New template" : `Template: ${t.name}`),
        h("div", { class: "row" }, labelled("template-name", "Name", name), labelled("template-status", "Status", status)),
        labelled("template-description", "Description", description),
        labelled("template-layout", "Layout", layoutSel),
        h("fieldset", {}, h("legend", {}, "Required fields"), required.el),
        h("fieldset", {}, h("legend", {}, "Case rules"), rulesBox),
        bar.el);
      editor.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    }
    replace(body, h("div", { class: "admin-layout" }, side, editor));
  }

  // ---- case rules ----
  async function rules() {
    const list = await api.all("ListCaseRules", { domainId }, "caseRules");
    const side = h("div", {}, h("a", { class: "button", href: `#/d/${domainId}/admin/rules/new` }, "New case rule"),
      list.length ? h("ul", { class: "plain" }, list.map((r) => h("li", {}, h("a", { href: `#/d/${domainId}/admin/rules/${r.caseRuleId}`, "aria-current": r.caseRuleId === itemId ? "page" : false }, r.name), ` (${r.ruleType})`)))
        : notice("empty", "No case rules yet."));
    let editor = null;
    if (itemId) {
      const got = itemId === "new" ? null : (await api.call("BatchGetCaseRule", { domainId, caseRules: [{ id: itemId }] })).caseRules?.[0];
      const rule = got?.rule || { required: { defaultValue: false, conditions: [] } };
      const kind = Object.keys(rule)[0];
      const name = h("input", { value: got?.name || "", required: true });
      const description = h("input", { value: got?.description || "" });
      const kindSel = h("select", { disabled: !!got }, ["required", "hidden", "fieldOptions"].map((k) => h("option", { value: k, selected: k === kind }, k)));
      const detail = h("div", {});
      let read = () => ({});
      async function drawDetail() {
        const k = kindSel.value;
        const src = rule[k] || {};
        if (k === "fieldOptions") {
          const selects = fieldsSorted.filter((f) => f.type === "SingleSelect");
          const parent = h("select", {}, selects.map((f) => h("option", { value: f.fieldId, selected: f.fieldId === src.parentFieldId }, f.name)));
          const child = h("select", {}, selects.map((f) => h("option", { value: f.fieldId, selected: f.fieldId === src.childFieldId }, f.name)));
          const grid = h("div", { class: "mapping" });
          const maps = new Map((src.parentChildFieldOptionsMappings || []).map((m) => [m.parentFieldOptionValue, new Set(m.childFieldOptionValues)]));
          async function drawGrid() {
            const [po, co] = await Promise.all([schema.options(api, domainId, parent.value), schema.options(api, domainId, child.value)]);
            replace(grid, h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "When the parent is"), h("th", { scope: "col" }, "the child may be"))),
              h("tbody", {}, [{ value: "", name: "(no value)" }, ...po].map((p) => h("tr", {}, h("td", {}, p.name),
                h("td", {}, co.map((c) => h("label", { class: "chip" }, h("input", {
                  type: "checkbox", checked: maps.get(p.value)?.has(c.value),
                  onchange: (e) => { const s = maps.get(p.value) || new Set(); e.target.checked ? s.add(c.value) : s.delete(c.value); maps.set(p.value, s); },
                }), c.name))))))));
          }
          parent.addEventListener("change", () => { maps.clear(); drawGrid(); });
          child.addEventListener("change", () => { maps.clear(); drawGrid(); });
          replace(detail, h("div", { class: "row" }, labelled("rule-parent", "Parent field", parent), labelled("rule-child", "Child field", child)), grid);
          await drawGrid();
          read = () => ({ fieldOptions: { parentFieldId: parent.value, childFieldId: child.value,
            parentChildFieldOptionsMappings: [...maps].filter(([, s]) => s.size).map(([p, s]) => ({ parentFieldOptionValue: p, childFieldOptionValues: [...s] })) } });
          return;
        }
        const def = h("input", { type: "checkbox", checked: !!src.defaultValue });
        const conds = structuredClone(src.conditions || []);
        const arns = await schema.seenArns(api, domainId).catch(() => ({ queues: [], users: [] }));
        const box = h("div", { class: "condition-tree" });
        const redraw = () => replace(box, conditionList(conds, "", 1));

        /** Suggested values for a field: its options, or the queue/user ARNs seen on cases. */
        function suggestions(fieldId) {
          const f = fieldMap.get(fieldId);
          if (fieldId === "assigned_queue") return arns.queues;
          if (f?.type === "User") return arns.users;
          if (f?.type === "SingleSelect") return (f.options || []).map((o) => o.value);
          if (f?.type === "Boolean") return ["true", "false"];
          return [];
        }

        /** One comparison: When FIELD is / is not VALUE → yes / no. `set` replaces it in its list. */
        function leaf(c, path, set, remove) {
          const [op, b] = Object.entries(c)[0];
          const operand = b.operandTwo || {};
          const shown = "emptyValue" in operand ? "" : String(Object.values(operand)[0] ?? "");
          const opSel = h("select", { "aria-label": `Condition ${path} operator` }, [["equalTo", "is"], ["notEqualTo", "is not"]].map(([k, l]) => h("option", { value: k, selected: k === op }, l)));
          const fieldSel = h("select", { "aria-label": `Condition ${path} field` }, fieldsSorted.map((f) => h("option", { value: f.fieldId, selected: f.fieldId === b.operandOne?.fieldId }, f.name)));
          const list = h("datalist", { id: `values-${path.replaceAll(".", "-")}` });
          const value = h("input", { value: shown, placeholder: "(empty)", "aria-label": `Condition ${path} value`, list: list.id, spellcheck: "false" });
          const result = h("select", { "aria-label": `Condition ${path} result` }, h("option", { value: "true", selected: b.result }, "→ yes"), h("option", { value: "false", selected: !b.result }, "→ no"));
          const offer = async () => {
            const f = fieldMap.get(fieldSel.value);
            if (f?.type === "SingleSelect" && !f.options) f.options = await schema.options(api, domainId, f.fieldId).catch(() => []);
            replace(list, suggestions(fieldSel.value).map((v) => h("option", { value: v })));
          };
          const sync = () => {
            const t = fieldMap.get(fieldSel.value)?.type;
            const v = value.value;
            const two = v === "" ? { emptyValue: {} } : t === "Number" ? { doubleValue: Number(v) } : t === "Boolean" ? { booleanValue: v === "true" || v.toLowerCase() === "yes" } : { stringValue: v };
            set({ [opSel.value]: { operandOne: { fieldId: fieldSel.value }, operandTwo: two, result: result.value === "true" } });
          };
          for (const el of [opSel, fieldSel, value, result]) el.addEventListener("change", sync);
          fieldSel.addEventListener("change", offer);
          sync();
          offer();
          return h("div", { class: "filter-row condition" }, h("span", {}, "When"), fieldSel, opSel, value, list, result,
            h("button", { type: "button", class: "secondary small", "aria-label": `Remove condition ${path}`, onclick: remove }, "Remove"));
        }

        const newLeaf = () => ({ equalTo: { operandOne: { fieldId: fieldsSorted[0]?.fieldId }, operandTwo: { emptyValue: {} }, result: true } });

        /** A list of conditions; at the top level a condition may also be a group of comparisons
         * that all (andAll) or any (orAll) hold — the two levels the API accepts. */
        function conditionList(list, prefix, depth) {
          const items = list.map((c, i) => {
            const path = `${prefix}${i + 1}`;
            const remove = () => { list.splice(i, 1); redraw(); };
            const kind = Object.keys(c)[0];
            if (kind !== "andAll" && kind !== "orAll") return h("li", {}, leaf(c, path, (n) => { list[i] = n; }, remove));
            const children = c[kind].conditions || (c[kind].conditions = []);
            const kindSel = h("select", { "aria-label": `Group ${path} kind` },
              h("option", { value: "andAll", selected: kind === "andAll" }, "All of"), h("option", { value: "orAll", selected: kind === "orAll" }, "Any of"));
            kindSel.addEventListener("change", () => { list[i] = { [kindSel.value]: { conditions: children } }; });
            return h("li", {}, h("fieldset", { class: "group" },
              h("legend", {}, `Group ${path}: `, kindSel, " these hold"),
              conditionList(children, `${path}.`, depth + 1),
              h("button", { type: "button", class: "secondary small", "aria-label": `Remove group ${path}`, onclick: remove }, "Remove group")));
          });
          const group = prefix ? ` to group ${prefix.slice(0, -1)}` : "";
          return [h("ol", { class: "conditions" }, items),
            h("div", { class: "actions start" },
              h("button", { type: "button", class: "secondary small", id: prefix ? undefined : "add-condition", "aria-label": `Add condition${group}`,
                onclick: () => { list.push(newLeaf()); redraw(); } }, "Add condition"),
              depth === 1 && h("button", { type: "button", class: "secondary small", id: "add-group",
                onclick: () => { list.push({ orAll: { conditions: [newLeaf(), newLeaf()] } }); redraw(); } }, "Add group"))];
        }
        redraw();
        replace(detail, h("div", { class: "field check" }, h("label", {}, def, ` ${k === "hidden" ? "Hidden" : "Required"} unless a condition decides`)),
          h("p", { class: "hint" }, "The first condition that holds decides; otherwise the default applies. A group decides when all (or any) of its comparisons hold."),
          h("p", { class: "hint", id: "arn-note" }, schema.ARN_NOTE), box);
        read = () => ({ [k]: { defaultValue: def.checked, conditions: conds } });
      }
      kindSel.addEventListener("change", drawDetail);
      await drawDetail();
      const bar = saveBar(itemId === "new" ? "Create case rule" : "Save case rule", async () => {
        const input = { domainId, name: name.value.trim(), description: description.value || undefined, rule: read() };
        if (itemId === "new") open((await api.call("CreateCaseRule", input)).caseRuleId);
        else await api.call("UpdateCaseRule", { ...input, caseRuleId: itemId });
      }, [got && h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmDialog(`Delete case rule “${got.name}”?`))) return;
        await api.call("DeleteCaseRule", { domainId, caseRuleId: itemId }).then(() => ctx.go(`#/d/${domainId}/admin/rules`), (e) => alertIn(editor, e));
      } }, "Delete case rule")]);
      editor = h("form", { class: "card editor", id: "rule-editor" }, h("h2", {}, got ? `Case rule: ${got.name}` : "New case rule"),
        h("div", { class: "row" }, labelled("rule-name", "Name", name), labelled("rule-kind", "Kind", kindSel)),
        labelled("rule-description", "Description", description), detail, bar.el);
      editor.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    }
    replace(body, h("div", { class: "admin-layout" }, side, editor));
  }

  // ---- case events ----
  async function events() {
    const config = await api.call("GetCaseEventConfiguration", { domainId });
    const eb = config.eventBridge || { enabled: false };
    const enabled = h("input", { type: "checkbox", checked: !!eb.enabled });
    const bar = saveBar("Save", async () => {
      await api.call("PutCaseEventConfiguration", { domainId, eventBridge: { ...eb, enabled: enabled.checked } });
    });
    const form = h("form", { class: "card editor", id: "events-editor" }, h("h2", {}, "Case events"),
      h("p", { class: "hint" }, "With events on, the case view updates by itself when a case changes elsewhere, and webhooks receive every change."),
      h("div", { class: "field check" }, h("label", {}, enabled, " Produce case events")), bar.el);
    form.addEventListener("submit", (e) => { e.preventDefault(); bar.run(); });
    replace(body, form);
  }
}
