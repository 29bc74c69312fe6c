// The vendored hashing code is byte for byte the pinned @noble/hashes release, and the page's
// SigV4 signer (on top of it) produces signatures the server accepts, ARN labels and repeated
// query parameters included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { root, startServer } from "./server.mjs";

const vendored = path.join(root, "ui/vendor/noble-hashes");
const pinned = path.join(root, "tests/browser/node_modules/@noble/hashes");

test("ui/vendor/noble-hashes matches the pinned @noble/hashes package", () => {
  const lock = JSON.parse(readFileSync(path.join(root, "tests/browser/package-lock.json"), "utf8"));
  const version = lock.packages["node_modules/@noble/hashes"].version;
  assert.equal(JSON.parse(readFileSync(path.join(pinned, "package.json"), "utf8")).version, version);
  const note = readFileSync(path.join(vendored, "VERSION"), "utf8");
  assert.match(note, new RegExp(`^@noble/hashes ${version.replace(/\./g, "\\.")}\\b`), "VERSION names the pinned release");
  for (const file of readdirSync(vendored).filter((f) => f !== "VERSION")) {
    assert.ok(readFileSync(path.join(vendored, file)).equals(readFileSync(path.join(pinned, file))),
      `${file} differs from @noble/hashes ${version}: copy it again from tests/browser/node_modules`);
  }
});

test("the page's signer and request builder are accepted by the server", async () => {
  const { sign } = await import(path.join(root, "ui/js/sigv4.js"));
  const { buildRequest } = await import(path.join(root, "ui/js/api.js"));
  const server = await startServer();
  const host = new URL(server.endpoint).host;
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const call = async (op, input, secret = "test") => {
    const [method, p, query, body] = buildRequest(op, input);
    const headers = sign({ method, host, path: p, query, body, credentials: { ...credentials, secretAccessKey: secret }, region: "eu-west-1", service: "cases" });
    const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
    const r = await fetch(`${server.endpoint}${p}${qs ? `?${qs}` : ""}`, { method, headers: { ...headers, "content-type": "application/json" }, body: body || undefined });
    return [r.status, await r.json().catch(() => ({}))];
  };
  try {
    const [status, domain] = await call("CreateDomain", { name: "signing check ü" });
    assert.equal(status, 200, JSON.stringify(domain));
    // An ARN label (colons and slashes, encoded once on the wire and twice when signed).
    assert.equal((await call("TagResource", { arn: domain.domainArn, tags: { "team:a/b": "a/b c", "x+y": "1" } }))[0], 200);
    const [, tags] = await call("ListTagsForResource", { arn: domain.domainArn });
    assert.deepEqual(tags.tags, { "team:a/b": "a/b c", "x+y": "1" });
    // Repeated query keys, with characters a form decoder would change.
    const untag = await call("UntagResource", { arn: domain.domainArn, tagKeys: ["team:a/b", "x+y"] });
    assert.equal(untag[0], 200, JSON.stringify(untag[1]));
    const [, listed] = await call("ListTemplates", { domainId: domain.domainId, status: ["Active", "Inactive"], maxResults: 5 });
    assert.deepEqual(listed.templates, []);
    // A wrong secret is refused: the server really checks what the page signs.
    const [refused, error] = await call("ListDomains", {}, "wrong");
    assert.equal(refused, 403, JSON.stringify(error));
  } finally {
    await server.stop();
  }
});
