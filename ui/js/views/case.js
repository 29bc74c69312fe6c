// One case: its fields by its template's layout with typed editing, status and assignment, tags,
// related items in a timeline (comments added and edited; contacts, files, SLAs, custom items,
// linked cases picked by search), merging another case into it, the audit history with old and
// new values, and live updates from the event feed that leave what the person is typing alone.
import { h, append, replace, notice, errorText, confirmDialog, formatTime } from "../dom.js";
import * as schema from "../schema.js";
import * as values from "../values.js";
import { caseForm } from "../caseform.js";
import { followDomain, coalesce } from "../live.js";
import { casePicker } from "../casepicker.js";

function auditValue(v, field, options) {
  if (!v) return "—";
  if ("emptyValue" in v) return "(empty)";
  if (field && "stringValue" in v) return values.display(field, v, options);
  if ("booleanValue" in v) return v.booleanValue ? "Yes" : "No";
  if ("doubleValue" in v) return String(v.doubleValue);
  if ("userArnValue" in v) return v.userArnValue;
  return v.stringValue ?? "";
}

async function getCase(api, domainId, caseId, ids) {
  const out = new Map();
  let templateId;
  for (let i = 0; i < ids.length; i += 220) {
    const r = await api.call("GetCase", { domainId, caseId, fields: ids.slice(i, i + 220).map((id) => ({ id })) });
    templateId = r.templateId;
    for (const f of r.fields || []) out.set(f.id, f.value);
  }
  return { templateId, values: out };
}

export async function caseView(main, ctx, caseId) {
  const { api, domainId } = ctx;
  replace(main, notice("loading", "Loading the case…"));
  const fieldMap = await schema.fields(api, domainId);
  const ids = [...fieldMap.keys()];
  let kase = await getCase(api, domainId, caseId, ids);
  const tmpl = await schema.template(api, domainId, kase.templateId);
  const layoutId = tmpl.layoutConfiguration?.defaultLayout;
  const [lay, caseRules, statusOptions] = await Promise.all([
    layoutId ? schema.layout(api, domainId, layoutId).catch(() => null) : null,
    schema.rulesOf(api, domainId, tmpl),
    schema.options(api, domainId, "status").catch(() => []),
  ]);
  const panels = schema.layoutPanels(lay);
  const laid = new Set(["title", "status", ...panels.top.ids, ...panels.more.ids]);
  const others = ids.filter((id) => !laid.has(id) && kase.values.has(id) && !values.same(kase.values.get(id), { emptyValue: {} }))
    .sort((a, b) => fieldMap.get(a).name.localeCompare(fieldMap.get(b).name));
  const sections = [
    { name: "", ids: ["title"] },
    { name: panels.top.name || "Details", ids: panels.top.ids.filter((id) => id !== "title" && id !== "status") },
    { name: panels.more.name, ids: panels.more.ids.filter((id) => id !== "title" && id !== "status") },
    { name: "Other fields", ids: others },
  ];
  const optionsMap = await schema.optionsOf(api, domainId, fieldMap, sections.flatMap((s) => s.ids));
  optionsMap.set("status", statusOptions);

  const heading = h("h1", { id: "case-title" });
  const meta = h("p", { class: "meta" });
  const live = h("span", { class: "live", id: "live-state" });
  const saveError = h("p", { class: "field-error", role: "alert", id: "save-error" });
  const saveBtn = h("button", { type: "submit", id: "save-case", disabled: true }, "Save changes");
  const statusBtn = h("button", { type: "button", class: "secondary", id: "toggle-status" });
  const form = caseForm({
    fieldMap, optionsMap, sections, initial: kase.values, caseRules,
    onChange: () => { saveBtn.disabled = !safeChanges().length; },
  });
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-live": "polite" });
  const audit = h("ol", { class: "audit", id: "audit" });
  const auditMore = h("button", { type: "button", class: "secondary small", hidden: true }, "Load older events");

  function safeChanges() {
    try { return form.changes(); } catch { return [1]; }
  }

  function drawHead() {
    const v = kase.values;
    heading.textContent = v.get("title")?.stringValue || "(no title)";
    const status = v.get("status")?.stringValue || "";
    const statusName = values.display(fieldMap.get("status"), v.get("status"), statusOptions) || "no status";
    replace(meta,
      h("span", { class: `pill status-${status || "none"}`, id: "case-status" }, statusName), " ",
      h("span", { class: "mono" }, `#${v.get("reference_number")?.stringValue || ""}`), " · ",
      `Template: ${tmpl.name}`, " · ", `Updated ${formatTime(v.get("last_updated_datetime")?.stringValue)}`);
    statusBtn.textContent = status === "closed" ? "Reopen case" : "Close case";
  }

  async function update(fields) {
    await api.call("UpdateCase", { domainId, caseId, fields });
    await reload();
  }

  async function reload() {
    kase = await getCase(api, domainId, caseId, ids);
    form.refresh(kase.values);
    drawHead();
    saveBtn.disabled = !safeChanges().length;
    await Promise.all([loadTimeline(), loadAudit()]);
  }

  const editForm = h("form", { class: "card", id: "case-fields", novalidate: true }, form.el, saveError,
    h("div", { class: "actions sticky" }, saveBtn));
  editForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    form.clearErrors();
    saveError.textContent = "";
    let fields;
    try { fields = form.changes(); } catch (err) { form.error(err.fieldId, err.message); return; }
    if (!fields.length) return;
    saveBtn.disabled = true;
    try {
      await api.call("UpdateCase", { domainId, caseId, fields });
      // What was saved is now the stored value: take it before reloading so it counts as clean.
      for (const f of fields) kase.values.set(f.id, f.value);
      form.refresh(new Map(kase.values));
      await reload();
    } catch (err) {
      if (!(err.fieldId && form.error(err.fieldId, err.message))) saveError.textContent = errorText(err);
      saveBtn.disabled = false;
    }
  });

  statusBtn.addEventListener("click", async () => {
    const closed = kase.values.get("status")?.stringValue === "closed";
    try {
      await update([{ id: "status", value: { stringValue: closed ? "open" : "closed" } }]);
    } catch (err) { saveError.textContent = errorText(err); }
  });

  // Assignment: a queue ARN and a user ARN, the two system fields that route a case.
  const queueIn = h("input", { id: "assign-queue", placeholder: "arn:aws:connect:…:instance/…/queue/…", spellcheck: "false", value: kase.values.get("assigned_queue")?.stringValue || "" });
  const userIn = h("input", { id: "assign-user", placeholder: "arn:aws:connect:…:instance/…/agent/…", spellcheck: "false", value: kase.values.get("assigned_user")?.userArnValue || "" });
  const assignErr = h("p", { class: "field-error", role: "alert" });
  const queueList = h("datalist", { id: "seen-queues" });
  const userList = h("datalist", { id: "seen-users" });
  queueIn.setAttribute("list", queueList.id);
  userIn.setAttribute("list", userList.id);
  schema.seenArns(api, domainId).then(({ queues, users }) => {
    replace(queueList, queues.map((v) => h("option", { value: v })));
    replace(userList, users.map((v) => h("option", { value: v })));
  }, () => {});
  const assignForm = h("form", { class: "assign" },
    h("p", { class: "hint" }, schema.ARN_NOTE),
    h("div", { class: "field" }, h("label", { for: "assign-queue" }, "Queue"), queueIn, queueList),
    h("div", { class: "field" }, h("label", { for: "assign-user" }, "User"), userIn, userList),
    assignErr, h("button", { type: "submit", class: "secondary" }, "Assign"));
  assignForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    assignErr.textContent = "";
    const q = queueIn.value.trim();
    const u = userIn.value.trim();
    try {
      await update([
        { id: "assigned_queue", value: q ? { stringValue: q } : { emptyValue: {} } },
        { id: "assigned_user", value: u ? { userArnValue: u } : { emptyValue: {} } },
      ]);
    } catch (err) { assignErr.textContent = errorText(err); }
  });

  const deleteBtn = h("button", { type: "button", class: "danger", id: "delete-case" }, "Delete case");
  deleteBtn.addEventListener("click", async () => {
    if (!(await confirmDialog("Delete this case with its related items and history? This cannot be undone."))) return;
    try {
      await api.call("DeleteCase", { domainId, caseId });
      ctx.go(`#/d/${domainId}/cases`);
    } catch (err) { saveError.textContent = errorText(err); }
  });

  // ---- related items ----
  function itemBody(item) {
    const c = item.content || {};
    if (c.comment) return h("p", { class: "comment-body" }, c.comment.body);
    if (c.contact) return h("p", {}, `Contact ${c.contact.contactArn} (${c.contact.channel || ""})`);
    if (c.file) return h("p", { class: "mono" }, `File ${c.file.fileArn}`);
    if (c.connectCase) {
      const link = h("a", { href: `#/d/${domainId}/case/${c.connectCase.caseId}` }, c.connectCase.caseId);
      // The title says more than the id; a linked case deleted since keeps its id.
      api.call("GetCase", { domainId, caseId: c.connectCase.caseId, fields: [{ id: "title" }] })
        .then((r) => { const t = r.fields?.find((f) => f.id === "title")?.value?.stringValue; if (t) link.textContent = t; }, () => {});
      return h("p", { class: "linked-case" }, "Linked case ", link);
    }
    if (c.sla) {
      const s = c.sla.slaConfiguration || {};
      return h("p", {}, `SLA “${s.name}”: ${s.status}, target ${formatTime(s.targetTime)}`,
        s.completionTime ? `, completed ${formatTime(s.completionTime)}` : "");
    }
    if (c.custom) {
      return h("p", { class: "custom-body" }, (c.custom.fields || []).filter(Boolean)
        .map((f) => `${fieldMap.get(f.id)?.name || f.id}: ${auditValue(f.value, fieldMap.get(f.id), optionsMap.get(f.id))}`).join(" · "));
    }
    return h("p", {}, item.type);
  }

  function timelineItem(item) {
    const li = h("li", { class: `item item-${item.type}`, "data-item-id": item.relatedItemId });
    const body = itemBody(item);
    const actions = h("div", { class: "item-actions" });
    if (item.type === "Comment") {
      actions.append(h("button", {
        type: "button", class: "secondary small", "aria-label": "Edit comment",
        onclick: () => {
          const ta = h("textarea", { rows: 3, "aria-label": "Comment text" }, item.content.comment.body);
          const err = h("p", { class: "field-error", role: "alert" });
          const f = h("form", { class: "edit-comment" }, ta, err,
            h("div", { class: "actions" },
              h("button", { type: "button", class: "secondary small", onclick: () => f.replaceWith(body) }, "Cancel"),
              h("button", { type: "submit", class: "small" }, "Save comment")));
          f.addEventListener("submit", async (e) => {
            e.preventDefault();
            try {
              await api.call("UpdateRelatedItem", { domainId, caseId, relatedItemId: item.relatedItemId, content: { comment: { body: ta.value, contentType: "Text/Plain" } } });
              await reload();
            } catch (er) { err.textContent = errorText(er); }
          });
          body.replaceWith(f);
          ta.focus();
        },
      }, "Edit"));
    }
    if (item.type !== "File") {
      actions.append(h("button", {
        type: "button", class: "secondary small", "aria-label": `Remove ${item.type}`,
        onclick: async () => {
          if (!(await confirmDialog(`Remove this ${item.type.toLowerCase()} from the case?`, "Remove"))) return;
          try { await api.call("DeleteRelatedItem", { domainId, caseId, relatedItemId: item.relatedItemId }); await reload(); }
          catch (er) { saveError.textContent = errorText(er); }
        },
      }, "Remove"));
    }
    return append(li, [h("div", { class: "item-head" },
      h("span", { class: "kind" }, item.type), h("time", { datetime: item.associationTime }, formatTime(item.associationTime)),
      item.performedBy?.userArn ? h("span", { class: "by" }, item.performedBy.userArn) : null), body, actions]);
  }

  async function loadTimeline() {
    const items = await api.all("SearchRelatedItems", { domainId, caseId }, "relatedItems");
    items.sort((a, b) => (a.associationTime < b.associationTime ? 1 : -1));
    replace(timeline, items.length ? items.map(timelineItem) : h("li", { class: "notice empty" }, "No related items yet."));
  }

  const kindSel = h("select", { id: "item-kind", "aria-label": "Kind of item" },
    ["Comment", "Contact", "File", "Sla", "ConnectCase", "Custom"].map((k) => h("option", { value: k }, { Sla: "SLA", ConnectCase: "Linked case", Custom: "Custom item" }[k] || k)));
  const itemFields = h("div", { class: "item-fields" });
  const itemErr = h("p", { class: "field-error", role: "alert", id: "item-error" });
  const addForm = h("form", { class: "add-item", id: "add-item" }, h("h3", {}, "Add to the timeline"), kindSel, itemFields, itemErr,
    h("button", { type: "submit", id: "add-item-submit" }, "Add"));
  const selectFields = [...fieldMap.values()].filter((f) => f.type === "SingleSelect");
  const linkPicker = casePicker(api, domainId, { id: "link", label: "Case to link", exclude: caseId });
  // A custom item holds values of the domain's custom fields (system fields are not allowed).
  const customFields = [...fieldMap.values()].filter((f) => f.namespace === "Custom").sort((a, b) => a.name.localeCompare(b.name));
  const CUSTOM_MAX = 5;
  let customRows = [];
  const customBox = h("div", { class: "custom-rows" });
  async function drawCustom() {
    await Promise.all(customRows.filter((r) => fieldMap.get(r.fieldId)?.type === "SingleSelect" && !optionsMap.has(r.fieldId))
      .map(async (r) => optionsMap.set(r.fieldId, await schema.options(api, domainId, r.fieldId))));
    replace(customBox, customRows.map((r, i) => {
      const f = fieldMap.get(r.fieldId);
      const sel = h("select", { "aria-label": `Custom field ${i + 1}` }, h("option", { value: "" }, "Field…"),
        customFields.map((x) => h("option", { value: x.fieldId, selected: x.fieldId === r.fieldId }, x.name)));
      sel.addEventListener("change", () => { r.fieldId = sel.value; r.inp = null; drawCustom(); });
      if (f) {
        r.inp = values.input(f, r.inp ? safeRead(r.inp) : undefined, { options: optionsMap.get(f.fieldId) || [] });
        r.inp.el.setAttribute("aria-label", `Custom value ${i + 1}`);
      }
      return h("div", { class: "filter-row" }, sel, r.inp?.el,
        h("button", { type: "button", class: "secondary small", "aria-label": `Remove custom field ${i + 1}`, onclick: () => { customRows.splice(i, 1); drawCustom(); } }, "Remove"));
    }), customRows.length < CUSTOM_MAX && h("button", {
      type: "button", class: "secondary small", id: "add-custom-field",
      onclick: () => { customRows.push({ fieldId: "" }); drawCustom(); },
    }, "Add a field"), customFields.length ? null : h("p", { class: "hint" }, "This domain has no custom fields yet (Admin → Fields)."));
  }
  const safeRead = (inp) => { try { return inp.read(); } catch { return undefined; } };
  function drawItemFields() {
    const t = kindSel.value;
    const f = (id, label, el) => h("div", { class: "field" }, h("label", { for: id }, label), el);
    replace(itemFields,
      t === "Comment" && f("comment-body", "Comment", h("textarea", { id: "comment-body", rows: 3, required: true })),
      t === "Contact" && f("contact-arn", "Contact ARN", h("input", { id: "contact-arn", required: true, spellcheck: "false" })),
      t === "File" && f("file-arn", "File ARN", h("input", { id: "file-arn", required: true, spellcheck: "false" })),
      t === "ConnectCase" && linkPicker.el,
      t === "Custom" && customBox,
      t === "Sla" && [
        f("sla-name", "Name", h("input", { id: "sla-name", required: true })),
        f("sla-minutes", "Target (minutes)", h("input", { id: "sla-minutes", type: "number", min: 1, required: true, value: "60" })),
        f("sla-field", "Field", h("select", { id: "sla-field" }, selectFields.map((x) => h("option", { value: x.fieldId }, x.name)))),
        f("sla-values", "Target values (comma-separated option values)", h("input", { id: "sla-values", required: true, value: "closed" })),
      ]);
  }
  kindSel.addEventListener("change", () => {
    if (kindSel.value === "Custom" && !customRows.length) { customRows = [{ fieldId: "" }]; drawCustom(); }
    drawItemFields();
  });
  drawItemFields();
  addForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    itemErr.textContent = "";
    const v = (id) => addForm.querySelector(`#${id}`).value.trim();
    const t = kindSel.value;
    const make = {
      Comment: () => ({ comment: { body: addForm.querySelector("#comment-body").value, contentType: "Text/Plain" } }),
      Contact: () => ({ contact: { contactArn: v("contact-arn") } }),
      File: () => ({ file: { fileArn: v("file-arn") } }),
      ConnectCase: () => {
        const picked = linkPicker.chosen();
        if (!picked) throw new Error("Search for the case to link and pick it.");
        return { connectCase: { caseId: picked.caseId } };
      },
      Custom: () => ({ custom: { fields: customRows.filter((r) => r.fieldId && r.inp).map((r) => ({ id: r.fieldId, value: r.inp.read() })) } }),
      Sla: () => ({ sla: { slaInputConfiguration: {
        name: v("sla-name"), type: "CaseField", targetSlaMinutes: Number(v("sla-minutes")), fieldId: v("sla-field"),
        targetFieldValues: v("sla-values").split(",").map((s) => s.trim()).filter(Boolean).map((s) => ({ stringValue: s })),
      } } }),
    };
    try {
      const content = make[t]();
      await api.call("CreateRelatedItem", { domainId, caseId, type: t, content });
      addForm.reset();
      linkPicker.clear();
      customRows = [{ fieldId: "" }];
      drawCustom();
      drawItemFields();
      await reload();
    } catch (er) { itemErr.textContent = errorText(er); }
  });

  // ---- tags ----
  // Tags belong to the case's ARN, which the API builds from the domain's.
  let caseArn = null;
  const tagList = h("ul", { class: "tags", id: "tags" });
  const tagKey = h("input", { id: "tag-key", required: true, spellcheck: "false", maxlength: 128 });
  const tagValue = h("input", { id: "tag-value", spellcheck: "false", maxlength: 256 });
  const tagErr = h("p", { class: "field-error", role: "alert", id: "tag-error" });
  async function loadTags() {
    caseArn ??= `${(await api.call("GetDomain", { domainId })).domainArn}/case/${caseId}`;
    const r = await api.call("ListTagsForResource", { arn: caseArn });
    const entries = Object.entries(r.tags || {}).sort(([a], [b]) => a.localeCompare(b));
    replace(tagList, entries.length ? entries.map(([k, v]) => h("li", { class: "tag" },
      h("span", {}, v ? `${k}: ${v}` : k),
      h("button", { type: "button", class: "secondary small", "aria-label": `Remove tag ${k}`, onclick: async () => {
        tagErr.textContent = "";
        try { await api.call("UntagResource", { arn: caseArn, tagKeys: [k] }); await loadTags(); } catch (e) { tagErr.textContent = errorText(e); }
      } }, "×"))) : h("li", { class: "notice empty" }, "No tags."));
  }
  const tagForm = h("form", { class: "tag-form" },
    h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "tag-key" }, "Key"), tagKey),
      h("div", { class: "field" }, h("label", { for: "tag-value" }, "Value"), tagValue)),
    tagErr, h("button", { type: "submit", class: "secondary" }, "Add tag"));
  tagForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    tagErr.textContent = "";
    try {
      await api.call("TagResource", { arn: caseArn, tags: { [tagKey.value.trim()]: tagValue.value } });
      tagForm.reset();
      await loadTags();
    } catch (er) { tagErr.textContent = errorText(er); }
  });

  // ---- merging another case into this one ----
  const mergePicker = casePicker(api, domainId, { id: "merge", label: "Case to merge into this one", exclude: caseId });
  const MOVABLE = [["comment", "Comments"], ["contact", "Contacts"], ["custom", "Custom items"], ["connectCase", "Linked cases"]];
  const moves = Object.fromEntries(MOVABLE.map(([k]) => [k, h("input", { type: "checkbox", checked: true, name: k })]));
  const mergeStatus = h("p", { class: "saved", role: "status", id: "merge-status" });
  const mergeErr = h("p", { class: "field-error", role: "alert", id: "merge-error" });
  const mergeForm = h("form", { class: "merge", id: "merge-form" },
    h("p", { class: "hint" }, "The other case is closed and linked to this one; this case keeps its values and takes the other's where it has none."),
    mergePicker.el,
    h("fieldset", {}, h("legend", {}, "Move to this case"), MOVABLE.map(([k, label]) => h("label", { class: "chip" }, moves[k], label))),
    mergeErr, mergeStatus, h("button", { type: "submit", class: "secondary" }, "Merge"));
  mergeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    mergeErr.textContent = "";
    mergeStatus.textContent = "";
    const other = mergePicker.chosen();
    if (!other) { mergeErr.textContent = "Search for the case to merge and pick it."; return; }
    if (!(await confirmDialog(`Merge “${other.title}” into this case? It will be closed.`, "Merge"))) return;
    try {
      await api.call("StartMergeCases", {
        domainId, caseId, secondaryCaseIds: [other.caseId],
        relatedItemsConfiguration: Object.fromEntries(MOVABLE.map(([k]) => [k, moves[k].checked])),
      });
      mergeStatus.textContent = "Merging…";
      // The merge runs in the background; its status is asked of the secondary case, the one a
      // completed merge is recorded on.
      for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
        const st = await api.call("GetMergeCasesStatus", { domainId, caseId: other.caseId });
        if (st.status === "COMPLETED") break;
        await new Promise((r) => setTimeout(r, wait));
      }
      mergePicker.clear();
      mergeStatus.replaceChildren(`Merged “${other.title}” into this case (`,
        h("a", { href: `#/d/${domainId}/case/${other.caseId}` }, "now closed"), ").");
      await reload();
    } catch (er) { mergeErr.textContent = errorText(er); mergeStatus.textContent = ""; }
  });

  // ---- audit history ----
  let auditToken;
  function auditItem(ev) {
    const who = ev.performedBy?.user?.userArn || ev.performedBy?.iamPrincipalArn || "";
    return h("li", {},
      h("div", { class: "item-head" }, h("span", { class: "kind" }, ev.type + (ev.relatedItemType ? ` (${ev.relatedItemType})` : "")),
        h("time", { datetime: ev.performedTime }, formatTime(ev.performedTime)), h("span", { class: "by" }, who)),
      h("table", { class: "changes" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Old"), h("th", { scope: "col" }, "New"))),
        h("tbody", {}, (ev.fields || []).filter(Boolean).map((f) => h("tr", {},
          h("td", {}, fieldMap.get(f.eventFieldId)?.name || f.eventFieldId),
          h("td", { class: "old" }, auditValue(f.oldValue, fieldMap.get(f.eventFieldId), optionsMap.get(f.eventFieldId))),
          h("td", { class: "new" }, auditValue(f.newValue, fieldMap.get(f.eventFieldId), optionsMap.get(f.eventFieldId))))))));
  }
  async function loadAudit(more = false) {
    const r = await api.call("GetCaseAuditEvents", { domainId, caseId, maxResults: 25, nextToken: more ? auditToken : undefined });
    auditToken = r.nextToken;
    const items = (r.auditEvents || []).filter(Boolean).map(auditItem);
    if (more) append(audit, items);
    else replace(audit, items.length ? items : h("li", { class: "notice empty" }, "No history."));
    auditMore.hidden = !auditToken;
  }
  auditMore.addEventListener("click", () => loadAudit(true).catch((e) => { saveError.textContent = errorText(e); }));

  // ---- live updates ----
  const reloadSoon = coalesce(() => reload().catch((e) => { saveError.textContent = errorText(e); }));
  function follow() {
    return followDomain(ctx, live, (d) => {
      const about = d.case?.caseId || d.relatedItem?.caseId;
      if (about !== caseId) return;
      if (d.eventType === "CASE.DELETED") replace(live, h("strong", {}, "This case was deleted elsewhere."));
      else reloadSoon();
    });
  }

  replace(main,
    h("p", {}, h("a", { href: `#/d/${domainId}/cases` }, "← Cases")),
    h("div", { class: "page-head" }, h("div", {}, heading, meta, live),
      h("div", { class: "actions" }, statusBtn, deleteBtn)),
    h("div", { class: "case-layout" },
      h("div", { class: "case-main" }, editForm,
        h("details", { class: "card" }, h("summary", {}, "Assignment"), assignForm),
        h("section", { class: "card", "aria-labelledby": "tags-title" }, h("h2", { id: "tags-title" }, "Tags"), tagList, tagForm),
        h("details", { class: "card", id: "merge-card" }, h("summary", {}, "Merge another case into this one"), mergeForm)),
      h("aside", { class: "case-side", "aria-label": "Activity" },
        h("section", { class: "card" }, h("h2", {}, "Timeline"), addForm, timeline),
        h("section", { class: "card" }, h("h2", {}, "History"), audit, auditMore))));
  drawHead();
  await Promise.all([loadTimeline(), loadAudit(), loadTags()]);
  follow();
}
