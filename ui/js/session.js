// Who the person is signed in as: credentials kept in sessionStorage, so they live as long as
// the tab and never reach another tab or the disk beyond the browser's session store.
import { Client } from "./api.js";

const KEY = "caseload.session";

export function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return s && s.accessKeyId ? s : null;
  } catch {
    return null;
  }
}

export function save(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clear() {
  sessionStorage.removeItem(KEY);
}

export function client(session) {
  return new Client(
    { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken || undefined },
    session.region || "us-east-1",
  );
}
