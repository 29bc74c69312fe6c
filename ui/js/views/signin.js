// Sign in with an access key: the page checks it with one ListDomains call and keeps it for
// this tab only. There is no login system of the page's own: the API's SigV4 identities are it.
import { h, replace, errorText } from "../dom.js";
import * as session from "../session.js";

export function signInView(main, { onSignedIn }) {
  const previous = session.load() || {};
  const field = (id, label, attrs) => h("div", { class: "field" },
    h("label", { for: id }, label), h("input", { id, name: id, ...attrs }));
  const error = h("p", { class: "field-error", role: "alert" });
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to caseload"),
    h("p", { class: "hint" }, "Requests are signed in this tab with SigV4 (service cases). The key is kept only until the tab closes."),
    field("accessKeyId", "Access key ID", { required: true, autocomplete: "username", value: previous.accessKeyId || "", spellcheck: "false" }),
    field("secretAccessKey", "Secret access key", { required: true, type: "password", autocomplete: "current-password" }),
    field("sessionToken", "Session token (optional)", { autocomplete: "off" }),
    field("region", "Region", { required: true, value: previous.region || "us-east-1", spellcheck: "false" }),
    error,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const s = {
      accessKeyId: data.accessKeyId.trim(), secretAccessKey: data.secretAccessKey,
      sessionToken: data.sessionToken.trim(), region: data.region.trim(),
    };
    error.textContent = "";
    form.querySelector("button").disabled = true;
    try {
      await session.client(s).call("ListDomains", { maxResults: 1 });
      session.save(s);
      onSignedIn();
    } catch (err) {
      error.textContent = errorText(err);
      form.querySelector("button").disabled = false;
    }
  });
  replace(main, form);
  form.querySelector("input").focus();
}
