// The page's API client: any operation by its model name with an input object, the request
// built from the generated route table (`generated/api.js`) and signed with SigV4. There is no
// other API: the page calls what every SDK calls.
import { OPERATIONS, SERVICE } from "../generated/api.js";
import { sign, uriEncode } from "./sigv4.js";

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
  /** The field id an error message names (`Field 'x' …`, `… of field 'x'`), if any. */
  get fieldId() {
    const m = /field '([^']+)'/i.exec(this.message || "");
    return m ? m[1] : null;
  }
}

/** Builds the request for an operation: [method, path as sent, query pairs, body text]. */
export function buildRequest(name, input) {
  const op = OPERATIONS[name];
  if (!op) throw new Error(`unknown operation ${name}`);
  const [template, fixedQuery] = op.uri.split("?");
  const path = template.replace(/\{([^}+]+)(\+?)\}/g, (_, label, greedy) => {
    const member = Object.keys(op.labels).find((m) => op.labels[m] === label);
    const value = input[member];
    if (value === undefined || value === "") throw new Error(`${name}: ${member} is required`);
    return uriEncode(value, greedy === "+");
  });
  const query = [];
  if (fixedQuery) for (const kv of fixedQuery.split("&")) query.push(kv.split("=").concat("").slice(0, 2));
  for (const [member, wire] of Object.entries(op.query)) {
    const v = input[member];
    if (v === undefined || v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) query.push([wire, String(one)]);
  }
  const body = {};
  for (const member of op.body) if (input[member] !== undefined) body[member] = input[member];
  const hasBody = op.body.length > 0 && op.method !== "GET";
  return [op.method, path, query, hasBody ? JSON.stringify(body) : ""];
}

export class Client {
  /** credentials: {accessKeyId, secretAccessKey, sessionToken?}; the API is this page's origin. */
  constructor(credentials, region) {
    this.credentials = credentials;
    this.region = region;
  }

  signed(method, path, query, body) {
    const auth = sign({
      method, host: location.host, path, query, body,
      credentials: this.credentials, region: this.region, service: SERVICE.signingName,
    });
    const qs = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
    return [path + (qs ? `?${qs}` : ""), auth];
  }

  async call(name, input = {}) {
    const [method, path, query, body] = buildRequest(name, input);
    const [url, auth] = this.signed(method, path, query, body);
    const headers = { ...auth };
    if (body) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body || undefined });
    } catch (e) {
      throw new ApiError("NetworkError", `The server could not be reached (${e.message})`, 0);
    }
    const text = await response.text();
    let json = {};
    try { json = text ? JSON.parse(text) : {}; } catch { json = { message: text }; }
    if (!response.ok) {
      const type = (response.headers.get("x-amzn-errortype") || json.__type || `HTTP ${response.status}`).split(":")[0];
      throw new ApiError(type, json.message || json.Message || response.statusText, response.status);
    }
    return json;
  }

  /** Calls a paginated operation until its last page, in the largest pages the model allows;
   * `key` is the list member to gather. */
  async all(name, input, key) {
    const out = [];
    const maxResults = OPERATIONS[name].maxResults ?? undefined;
    let nextToken;
    do {
      const page = await this.call(name, { maxResults, ...input, nextToken });
      out.push(...(page[key] || []).filter(Boolean));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /**
   * Follows the server's event feed (`GET /_caseload/events`, server-sent events, signed like
   * any call). EventSource cannot send the signature's headers, so this reads the stream with
   * fetch; it reconnects with a new signature and Last-Event-ID until `signal` aborts.
   */
  async follow(onEvent, signal, onState = () => {}) {
    let lastId = null;
    let delay = 500;
    while (!signal.aborted) {
      try {
        const [url, auth] = this.signed("GET", "/_caseload/events", [], "");
        const headers = { ...auth, accept: "text/event-stream" };
        if (lastId !== null) headers["last-event-id"] = lastId;
        const response = await fetch(url, { headers, signal });
        if (!response.ok) throw new Error(`event feed answered ${response.status}`);
        onState("live");
        delay = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
            let id = null;
            let data = "";
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith("id:")) id = line.slice(3).trim();
              else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
            }
            if (id !== null) lastId = id;
            if (data) {
              try { onEvent(JSON.parse(data)); } catch { /* not an event: keep-alive or noise */ }
            }
          }
        }
      } catch (e) {
        if (signal.aborted) return;
      }
      onState("reconnecting");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }
}
