// Domains: listed, created and deleted (after a confirmation).
import { h, replace, notice, errorText, confirmDialog, formatTime } from "../dom.js";

export async function domainsView(main, ctx) {
  const { api } = ctx;
  replace(main, h("h1", {}, "Domains"), notice("loading", "Loading domains…"));
  const list = await api.all("ListDomains", {}, "domains");
  const details = await Promise.all(list.map((d) => api.call("GetDomain", { domainId: d.domainId }).catch(() => d)));
  const error = h("p", { class: "field-error", role: "alert" });
  const name = h("input", { id: "new-domain-name", name: "name", required: true, placeholder: "support" });
  const form = h("form", { class: "inline-form" },
    h("label", { for: "new-domain-name" }, "New domain"), name, h("button", { type: "submit" }, "Create domain"), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api.call("CreateDomain", { name: name.value.trim() });
      ctx.domainsChanged();
      ctx.go(`#/d/${r.domainId}/admin/fields`);
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  const rows = details.map((d) => h("tr", {},
    h("td", {}, h("a", { href: `#/d/${d.domainId}/cases` }, d.name)),
    h("td", { class: "mono" }, d.domainId),
    h("td", {}, d.domainStatus || ""),
    h("td", {}, formatTime(d.createdTime)),
    h("td", {}, h("button", {
      type: "button", class: "danger small", "aria-label": `Delete domain ${d.name}`,
      onclick: async () => {
        if (!(await confirmDialog(`Delete domain “${d.name}” and every case in it? This cannot be undone.`))) return;
        try {
          await api.call("DeleteDomain", { domainId: d.domainId });
          ctx.domainsChanged();
          await domainsView(main, ctx);
        } catch (err) {
          error.textContent = errorText(err);
        }
      },
    }, "Delete"))));
  replace(main, h("h1", {}, "Domains"), form,
    list.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "list" },
        h("thead", {}, h("tr", {}, ["Name", "Id", "Status", "Created", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows)))
      : notice("empty", "No domains yet. Create one to start."));
}
