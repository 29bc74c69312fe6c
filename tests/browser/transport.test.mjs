// The page where browsers are strict, without leaving loopback: plain HTTP on a host name that
// is not loopback (Chromium maps caseload.test to 127.0.0.1, and withholds crypto.subtle from
// such a non-secure context), and HTTPS through a TLS-terminating reverse proxy that forwards
// the Host header unchanged (a throwaway self-signed certificate made for the run).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { boto3, startServer } from "./server.mjs";
import { launch, signIn, watch } from "./browser.mjs";

let server;
let browser;
let domainId;
const HOST = "caseload.test";

before(async () => {
  server = await startServer();
  const out = boto3(server.endpoint, `d = c.create_domain(name="transport")["domainId"]
c.create_template(domainId=d, name="Plain", status="Active")
print(d)`);
  domainId = out.trim();
  browser = await launch([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, "--ignore-certificate-errors"]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(origin) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  const problems = watch(page);
  await page.goto(`${origin}/ui/`);
  await signIn(page);
  await page.getByRole("button", { name: "Delete domain transport" }).waitFor();
  return { page, problems };
}

test("plain HTTP on a non-loopback host: no secure context, and sign-in, list and create work", async () => {
  const port = new URL(server.endpoint).port;
  const { page, problems } = await openPage(`http://${HOST}:${port}`);
  assert.deepEqual(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle]), [false, "undefined"]);
  await page.goto(`http://${HOST}:${port}/ui/#/d/${domainId}/new`);
  await page.getByLabel("Title").fill("Created over plain HTTP");
  await page.getByRole("button", { name: "Create case" }).click();
  await page.locator("#case-title").filter({ hasText: "Created over plain HTTP" }).waitFor();
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await page.locator("table.cases tbody").filter({ hasText: "Created over plain HTTP" }).waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test("behind a TLS proxy that keeps the Host header: sign-in and the case list work", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "caseload-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${HOST}`,
    "-addext", `subjectAltName=DNS:${HOST}`, "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
  { stdio: "ignore" });
  const upstream = new URL(server.endpoint);
  let forwarded = 0;
  const proxy = https.createServer({ key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) },
    (req, res) => {
      forwarded++;
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (back) => { res.writeHead(back.statusCode, back.headers); back.pipe(res); });
      out.on("error", () => { res.writeHead(502); res.end(); });
      req.pipe(out);
    });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => { proxy.closeAllConnections(); proxy.close(resolve); }));

  const { page, problems } = await openPage(`https://${HOST}:${proxy.address().port}`);
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  await page.goto(`https://${HOST}:${proxy.address().port}/ui/#/d/${domainId}/cases`);
  await page.locator("table.cases tbody").filter({ hasText: "Created over plain HTTP" }).waitFor();
  assert.ok(forwarded > 5, `the page came through the proxy (${forwarded} requests)`);
  assert.deepEqual(problems, []);
  await page.close();
});
