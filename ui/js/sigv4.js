// AWS Signature Version 4 for the page's API calls, on @noble/hashes (vendored, audited) rather
// than crypto.subtle: browsers withhold crypto.subtle from pages served over plain HTTP on a
// non-loopback address, and the page must work there too.
import { sha256 } from "../vendor/noble-hashes/sha2.js";
import { hmac } from "../vendor/noble-hashes/hmac.js";
import { bytesToHex, utf8ToBytes } from "../vendor/noble-hashes/utils.js";

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, all else %XX (upper case). */
export function uriEncode(text, keepSlash = false) {
  let out = "";
  for (const byte of utf8ToBytes(String(text))) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** `20240102T030405Z` for a Date. */
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

const hex = (bytes) => bytesToHex(bytes);
const mac = (key, text) => hmac(sha256, key, utf8ToBytes(text));

/**
 * Signs a request and returns the headers to send with it.
 * `path` is the path exactly as it will be sent (already percent-encoded), `query` the list of
 * [key, value] pairs (not yet encoded), `body` the body text ("" for none).
 */
export function sign({ method, host, path, query = [], body = "", credentials, region, service, date = new Date() }) {
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const headers = { host, "x-amz-date": stamp };
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  // Services other than S3 sign the path encoded once more than it is sent.
  const canonicalPath = uriEncode(path, true);
  const canonicalQuery = query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    method,
    canonicalPath,
    canonicalQuery,
    names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join(""),
    names.join(";"),
    hex(sha256(utf8ToBytes(body))),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, hex(sha256(utf8ToBytes(canonical)))].join("\n");
  let key = mac(utf8ToBytes("AWS4" + credentials.secretAccessKey), day);
  key = mac(key, region);
  key = mac(key, service);
  key = mac(key, "aws4_request");
  const signature = hex(mac(key, toSign));
  const out = { "x-amz-date": stamp };
  if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
  out.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return out;
}
