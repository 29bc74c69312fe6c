// Picking another case of the domain by what a person remembers of it: a free-text search
// (SearchCases' searchTerm) whose first matches are offered as choices. Used to link a case and
// to merge one into another.
import { h, replace, errorText } from "./dom.js";

const SHOWN = 8;

/** Returns {el, chosen(), clear()}: chosen() is {caseId, title} or null. `id` prefixes the
 * controls' ids; `exclude` is the case being viewed (never offered). */
export function casePicker(api, domainId, { id, label, exclude }) {
  let chosen = null;
  const box = h("input", { id: `${id}-search`, type: "search", placeholder: "Title, reference or any text", autocomplete: "off" });
  const list = h("ul", { class: "picks", id: `${id}-choices`, "aria-label": `${label}: matches` });
  const status = h("p", { class: "hint", role: "status" });
  let seq = 0;
  async function find() {
    const mine = ++seq;
    chosen = null;
    const term = box.value.trim();
    if (!term) { replace(list); status.textContent = ""; return; }
    try {
      const r = await api.call("SearchCases", { domainId, searchTerm: term, maxResults: SHOWN + 1, fields: [{ id: "title" }, { id: "reference_number" }] });
      if (mine !== seq) return;
      const cases = (r.cases || []).filter((c) => c && c.caseId !== exclude).slice(0, SHOWN);
      const get = (c, f) => c.fields.find((x) => x.id === f)?.value?.stringValue || "";
      status.textContent = cases.length ? "" : "No case matches.";
      replace(list, cases.map((c) => {
        const title = get(c, "title") || "(no title)";
        const ref = get(c, "reference_number");
        return h("li", {}, h("label", { class: "chip" },
          h("input", { type: "radio", name: `${id}-pick`, value: c.caseId, onchange: () => { chosen = { caseId: c.caseId, title }; } }),
          title, ref ? h("span", { class: "mono" }, ` #${ref}`) : null));
      }));
    } catch (e) {
      if (mine === seq) status.textContent = errorText(e);
    }
  }
  let timer;
  box.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 200); });
  box.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); find(); } });
  return {
    el: h("div", { class: "field picker" }, h("label", { for: `${id}-search` }, label), box, status, list),
    chosen: () => chosen,
    clear() { box.value = ""; chosen = null; replace(list); status.textContent = ""; },
  };
}
