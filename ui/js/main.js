// The page's shell: sign-in gate, top bar and hash routes. Each view renders into <main> and
// gets an AbortSignal that fires when the person navigates away (ending its event feed).
import { h, replace, notice, errorText } from "./dom.js";
import * as session from "./session.js";
import { signInView } from "./views/signin.js";
import { domainsView } from "./views/domains.js";
import { casesView } from "./views/cases.js";
import { caseView } from "./views/case.js";
import { createView } from "./views/create.js";
import { adminView } from "./views/admin.js";

// Every module is loaded once this runs: the first screen's time splits here (measure.mjs).
performance.mark("app:modules-loaded");
const app = document.getElementById("app");
let leave = new AbortController();
let domainList = null;

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function domains(api) {
  domainList ??= api.all("ListDomains", {}, "domains").catch((e) => { domainList = null; throw e; });
  return domainList;
}

export function domainsChanged() {
  domainList = null;
}

function topBar(s, api, domainId, section) {
  const picker = h("select", { id: "domain-picker", "aria-label": "Domain" }, h("option", { value: "" }, "Choose a domain…"));
  domains(api).then((list) => {
    for (const d of list) picker.append(h("option", { value: d.domainId, selected: d.domainId === domainId }, d.name));
  }).catch(() => {});
  picker.addEventListener("change", () => picker.value && go(`#/d/${picker.value}/cases`));
  const link = (href, label, active) => h("a", { href, "aria-current": active ? "page" : false }, label);
  return h("header", { class: "topbar" },
    h("a", { class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); document.getElementById("main").focus(); } }, "Skip to content"),
    h("a", { class: "brand", href: "#/domains" }, "caseload"),
    picker,
    h("nav", { "aria-label": "Sections" },
      domainId && link(`#/d/${domainId}/cases`, "Cases", section === "cases" || section === "case"),
      domainId && link(`#/d/${domainId}/new`, "New case", section === "new"),
      domainId && link(`#/d/${domainId}/admin/fields`, "Admin", section === "admin"),
      link("#/domains", "Domains", section === "domains")),
    h("span", { class: "who", title: `Signed in as ${s.accessKeyId} in ${s.region}` }, `${s.accessKeyId} · ${s.region}`),
    h("button", { type: "button", class: "secondary", onclick: () => { session.clear(); go("#/signin"); } }, "Sign out"));
}

async function route() {
  leave.abort();
  leave = new AbortController();
  const signal = leave.signal;
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const s = session.load();
  const main = h("main", { id: "main", tabindex: "-1" });
  if (!s || parts[0] === "signin") {
    replace(app, main);
    signInView(main, { onSignedIn: () => { domainList = null; go("#/domains"); } });
    return;
  }
  const api = session.client(s);
  let [first, domainId, section, ...rest] = parts;
  if (first !== "d") { section = "domains"; domainId = null; }
  replace(app, topBar(s, api, domainId, section), main);
  const ctx = { api, domainId, signal, go, domainsChanged };
  try {
    if (!domainId) await domainsView(main, ctx);
    else if (section === "case" && rest[0]) await caseView(main, ctx, rest[0]);
    else if (section === "new") await createView(main, ctx);
    else if (section === "admin") await adminView(main, ctx, rest[0] || "fields", rest[1]);
    else await casesView(main, ctx);
  } catch (e) {
    if (!signal.aborted) replace(main, notice("error", errorText(e)));
  }
}

window.addEventListener("hashchange", route);
route();
