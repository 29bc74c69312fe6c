// A new case from a template: the template's required fields and layout, its case rules live,
// and the API's errors shown beside the field they name.
import { h, replace, notice, errorText, token } from "../dom.js";
import * as schema from "../schema.js";
import { caseForm } from "../caseform.js";

export async function createView(main, ctx) {
  const { api, domainId } = ctx;
  replace(main, h("h1", {}, "New case"), notice("loading", "Loading templates…"));
  const [fieldMap, list] = await Promise.all([schema.fields(api, domainId), schema.templates(api, domainId, ["Active"])]);
  if (!list.length) {
    replace(main, h("h1", {}, "New case"), notice("empty", "This domain has no active template. "),
      h("a", { href: `#/d/${domainId}/admin/templates` }, "Create a template"));
    return;
  }
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("template");
  const picker = h("select", { id: "template-picker" },
    list.map((t) => h("option", { value: t.templateId, selected: t.templateId === wanted }, t.name)));
  const body = h("div", {});
  replace(main, h("h1", {}, "New case"),
    h("div", { class: "field inline" }, h("label", { for: "template-picker" }, "Template"), picker), body);

  async function draw() {
    replace(body, notice("loading", "Loading the template…"));
    const tmpl = await schema.template(api, domainId, picker.value);
    const layoutId = tmpl.layoutConfiguration?.defaultLayout;
    const [lay, caseRules] = await Promise.all([
      layoutId ? schema.layout(api, domainId, layoutId).catch(() => null) : null,
      schema.rulesOf(api, domainId, tmpl),
    ]);
    const panels = schema.layoutPanels(lay);
    const required = (tmpl.requiredFields || []).map((r) => r.fieldId);
    const shown = new Set(["title", ...panels.top.ids, ...panels.more.ids]);
    const extra = required.filter((id) => !shown.has(id));
    const sections = [
      { name: "", ids: ["title", ...extra] },
      { name: panels.top.name, ids: panels.top.ids.filter((id) => id !== "title") },
      { name: panels.more.name, ids: panels.more.ids.filter((id) => id !== "title") },
    ].map((s) => ({ ...s, ids: s.ids.filter((id) => !schema.SERVER_WRITTEN.has(id)) }));
    const ids = sections.flatMap((s) => s.ids);
    const optionsMap = await schema.optionsOf(api, domainId, fieldMap, ids);
    const form = caseForm({ fieldMap, optionsMap, sections, initial: new Map(), caseRules, requiredFields: required });
    const error = h("p", { class: "field-error", role: "alert", id: "create-error" });
    const submit = h("button", { type: "submit" }, "Create case");
    const el = h("form", { class: "card", id: "create-case", novalidate: true }, form.el, error, h("div", { class: "actions" }, submit));
    el.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.clearErrors();
      error.textContent = "";
      let fields;
      try {
        fields = form.changes().filter((f) => !("emptyValue" in f.value));
      } catch (err) {
        form.error(err.fieldId, err.message);
        form.focus(err.fieldId);
        return;
      }
      submit.disabled = true;
      try {
        const r = await api.call("CreateCase", { domainId, templateId: tmpl.templateId, fields, clientToken: token() });
        ctx.go(`#/d/${domainId}/case/${r.caseId}`);
      } catch (err) {
        submit.disabled = false;
        if (err.fieldId && form.error(err.fieldId, err.message)) form.focus(err.fieldId);
        else error.textContent = errorText(err);
      }
    });
    replace(body, tmpl.description ? h("p", { class: "hint" }, tmpl.description) : null, el);
  }
  picker.addEventListener("change", () => draw().catch((e) => replace(body, notice("error", errorText(e)))));
  await draw();
}
