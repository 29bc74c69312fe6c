// A domain's changes as they happen, from the server's event feed: the case list and the case
// view follow it. The feed carries the events of every domain of the account; a view wants its
// own domain's, recognised by the domain ARN the event names first in `resources`.
import { h, replace, errorText } from "./dom.js";

/**
 * Follows the domain's events until ctx.signal aborts, calling onEvent(detail) for each; shows
 * the feed's state in `statusEl`. When the domain produces no events, offers to turn them on.
 */
export async function followDomain(ctx, statusEl, onEvent) {
  const { api, domainId, signal } = ctx;
  const config = await api.call("GetCaseEventConfiguration", { domainId }).catch(() => null);
  if (signal.aborted) return;
  if (!config?.eventBridge?.enabled) {
    replace(statusEl, "Live updates are off for this domain ",
      h("button", { type: "button", class: "secondary small", id: "enable-live", onclick: async () => {
        try {
          await api.call("PutCaseEventConfiguration", { domainId, eventBridge: { ...(config?.eventBridge || {}), enabled: true } });
          followDomain(ctx, statusEl, onEvent);
        } catch (e) { statusEl.textContent = errorText(e); }
      } }, "Turn on"));
    return;
  }
  const mine = `:domain/${domainId}`;
  api.follow((event) => {
    if (event.resources?.[0]?.endsWith(mine)) onEvent(event.detail || {});
  }, signal, (state) => replace(statusEl, h("span", { class: `dot ${state}` }), state === "live" ? "Live" : "Reconnecting…"));
}

/** Runs `task` now, or once more after the run in flight when asked again meanwhile: a burst
 * of events costs at most two runs. */
export function coalesce(task) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) { again = true; return running; }
    running = Promise.resolve().then(task).finally(() => {
      running = null;
      if (again) { again = false; run(); }
    });
    return running;
  };
  return run;
}
