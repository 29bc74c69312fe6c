// A few helpers for building the DOM without a framework: `h` makes an element from a tag,
// attributes (event handlers as `onclick`, booleans as presence) and children.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "selected" || k === "disabled") el[k] = true;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** A status line: loading, empty or error, announced to screen readers. */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function errorText(e) {
  if (e && e.type) return `${e.type}: ${e.message}`;
  return String(e && e.message ? e.message : e);
}

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(message, confirmLabel = "Delete") {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-label": "Confirm" },
      h("p", {}, message),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => dlg.close("no") }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: () => dlg.close("yes") }, confirmLabel)));
    dlg.addEventListener("close", () => { dlg.remove(); resolve(dlg.returnValue === "yes"); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

/** A random id (idempotency tokens): crypto.getRandomValues works where crypto.subtle and
 * randomUUID do not (plain HTTP on a non-loopback address). */
export function token() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
