// The web page in Debian's Chromium against the real server: sign in, build a domain's schema
// through the admin pages, create a case from a template (a case rule's violation shown beside
// its field), search by free text and by a filter, edit fields by type, comment, see a change
// made with boto3 appear without a reload, delete. Screenshots go to docs/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { boto3 as boto3At, root, startServer } from "./server.mjs";
import { launch, watch } from "./browser.mjs";

const SHOTS = process.env.CASELOAD_SCREENSHOTS || path.join(root, "docs/screenshots");
let server;
let browser;
let page;
let problems;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  problems = watch(page);
});

after(async () => {
  // The page as it was when the run ended, for a failure's diagnosis (not committed).
  await page?.screenshot({ path: path.join(process.env.TMPDIR || "/tmp", "caseload-ui-last.png"), fullPage: true }).catch(() => {});
  await browser?.close();
  await server?.stop();
});

const byId = (id) => page.locator(`#${id}`);
const waitText = (locator, text) => locator.filter({ hasText: text }).first().waitFor();

const boto3 = (code) => boto3At(server.endpoint, code);

async function createField(name, type) {
  await byId("new-field-name").fill(name);
  await byId("new-field-type").selectOption(type);
  await page.getByRole("button", { name: "Create field" }).click();
  await waitText(page.locator("#field-editor h2"), `Field: ${name}`);
}

test("the page is served from the binary with its security headers", async () => {
  // No "(files read from ui/ …)" note: the binary under test carries the page, as users' do.
  assert.equal(server.pageLine, `web page: ${server.endpoint}/ui/`);
  // …and it carries today's page: every file of ui/, byte for byte (a stale build fails here).
  const files = readdirSync(path.join(root, "ui"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && path.extname(e.name)) // LICENSE and VERSION notes are not served
    .map((e) => path.relative(path.join(root, "ui"), path.join(e.parentPath, e.name)));
  assert.ok(files.length > 20, `ui/ holds the page (${files.length} files)`);
  for (const file of files) {
    const r = await fetch(`${server.endpoint}/ui/${file}`);
    assert.equal(r.status, 200, `${file} is served`);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(readFileSync(path.join(root, "ui", file))), `${file} as in ui/`);
  }
  const r = await fetch(`${server.endpoint}/ui`, { redirect: "manual" });
  assert.equal(r.status, 308);
  assert.equal(r.headers.get("location"), "/ui/");
  const index = await fetch(`${server.endpoint}/ui/`);
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(index.headers.get("content-security-policy"), /script-src 'self'/);
  const etag = index.headers.get("etag");
  assert.ok(etag);
  assert.equal((await fetch(`${server.endpoint}/ui/`, { headers: { "if-none-match": etag } })).status, 304);
  const js = await fetch(`${server.endpoint}/ui/generated/api.js`);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal((await fetch(`${server.endpoint}/ui/nothing.js`)).status, 404);
});

test("an agent and an admin work a case from sign-in to deletion", async () => {
  await page.goto(`${server.endpoint}/ui/`);
  // A wrong secret is refused by the API, and said so.
  await page.getByLabel("Access key ID").fill("test");
  await page.getByLabel("Secret access key").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitText(page.locator(".signin .field-error"), "InvalidSignatureException");
  await page.getByLabel("Secret access key").fill("test");
  await page.getByRole("button", { name: "Sign in" }).click();

  // Admin: a domain, its fields, a layout, a case rule and a template.
  await page.getByLabel("New domain").fill("support desk");
  await page.getByRole("button", { name: "Create domain" }).click();
  await createField("Priority", "SingleSelect");
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByLabel("Option 1 name").fill("High");
  await page.getByLabel("Option 1 value").fill("high");
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByLabel("Option 2 name").fill("Low");
  await page.getByLabel("Option 2 value").fill("low");
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByLabel("Option 3 name").fill("Legacy");
  await page.getByLabel("Option 3 value").fill("legacy");
  await page.getByLabel("Option 3 active").uncheck();
  await page.getByRole("button", { name: "Save options" }).click();
  await waitText(page.locator("#options-editor .saved"), "Saved.");
  await createField("Amount", "Number");
  await createField("Escalated", "Boolean");
  await createField("Due", "DateTime");
  await createField("Runbook", "Url");
  await createField("Owner", "User");

  const domainId = /#\/d\/([^/]+)\//.exec(page.url())[1];
  await page.goto(`${server.endpoint}/ui/#/d/${domainId}/admin/layouts/new`);
  await byId("layout-name").fill("Incident layout");
  await byId("layout-top-name").fill("Triage");
  const [topAdd, moreAdd] = [page.getByLabel("Add a field to the top panel"), page.getByLabel("Add a field to more info")];
  for (const f of ["Priority (SingleSelect)", "Amount (Number)", "Escalated (Boolean)"]) await topAdd.selectOption({ label: f });
  for (const f of ["Due (DateTime)", "Runbook (Url)", "Owner (User)", "Summary (Text)"]) await moreAdd.selectOption({ label: f });
  await page.getByRole("button", { name: "Create layout" }).click();
  await waitText(page.locator("#layout-editor h2"), "Layout: Incident layout");

  await page.goto(`${server.endpoint}/ui/#/d/${domainId}/admin/rules/new`);
  await byId("rule-name").fill("Amount for high priority");
  await page.getByRole("button", { name: "Add condition" }).click();
  await page.getByLabel("Condition 1 field").selectOption({ label: "Priority" });
  await page.getByLabel("Condition 1 value").fill("high");
  await page.getByLabel("Condition 1 value").press("Tab");
  await page.getByRole("button", { name: "Create case rule" }).click();
  await waitText(page.locator("#rule-editor h2"), "Case rule: Amount for high priority");

  await page.goto(`${server.endpoint}/ui/#/d/${domainId}/admin/templates/new`);
  await byId("template-name").fill("Incident");
  await byId("template-layout").selectOption({ label: "Incident layout" });
  await page.getByRole("button", { name: "Attach a rule" }).click();
  await page.getByLabel("Rule 1", { exact: true }).selectOption({ label: "Amount for high priority (Required)" });
  await page.getByLabel("Rule 1 field").selectOption({ label: "Amount" });
  await page.getByRole("button", { name: "Create template" }).click();
  await waitText(page.locator("#template-editor h2"), "Template: Incident");

  // Agent: create a case; the rule's violation is shown beside the Amount field.
  await page.getByRole("link", { name: "New case" }).click();
  await page.getByLabel("Title").fill("Printer on fire in building 7");
  const priority = page.getByLabel("Priority");
  assert.deepEqual(await priority.locator("option").allTextContents(), ["—", "High", "Low"], "inactive options are not offered");
  await priority.selectOption("high");
  await page.locator('.field[data-field-id] .req:text(" *")').first().waitFor();
  await page.getByRole("button", { name: "Create case" }).click();
  const amountError = page.locator('.field.invalid .field-error');
  await amountError.waitFor();
  assert.match(await amountError.textContent(), /required by case rule/);
  assert.equal(await page.locator(".field.invalid label").first().textContent().then((t) => t.startsWith("Amount")), true);
  await page.getByLabel("Amount").fill("42.5");
  await page.getByRole("button", { name: "Create case" }).click();
  await page.locator("#case-title").filter({ hasText: "Printer on fire" }).waitFor();
  const caseId = /case\/([^/?]+)/.exec(page.url())[1];

  // Edit fields by type and save; the audit history shows old and new values.
  await page.getByLabel("Escalated").selectOption("true");
  await page.getByLabel("Due").fill("2030-05-06T07:08");
  await page.getByLabel("Runbook").fill("https://runbooks.example/printers");
  await page.getByLabel("Amount").fill("99");
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitText(page.locator("#audit td.new"), "https://runbooks.example/printers");
  await waitText(page.locator("#audit td.old"), "42.5");
  await page.getByLabel("Runbook").fill("not a url");
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitText(page.locator('.field[data-field-id] .field-error'), "not an absolute http or https URL");
  await page.getByLabel("Runbook").fill("https://runbooks.example/printers");

  // Comments: add, then edit.
  await page.getByLabel("Comment", { exact: true }).fill("Fire brigade called.");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await waitText(page.locator("#timeline .comment-body"), "Fire brigade called.");
  await page.getByRole("button", { name: "Edit comment" }).click();
  await page.getByLabel("Comment text").fill("Fire brigade called; building evacuated.");
  await page.getByRole("button", { name: "Save comment" }).click();
  await waitText(page.locator("#timeline .comment-body"), "building evacuated");

  // Live: events on, then a change through boto3 shows up without a reload, and what the
  // person is typing in another field stays.
  await page.getByRole("button", { name: "Turn on" }).click();
  await waitText(byId("live-state"), "Live");
  await page.getByLabel("Summary").fill("typing, not saved yet");
  boto3(`c.update_case(domainId="${domainId}", caseId="${caseId}", fields=[{"id": "title", "value": {"stringValue": "Printer fire (updated by boto3)"}}])
c.create_related_item(domainId="${domainId}", caseId="${caseId}", type="Comment", content={"comment": {"body": "Note from the integration", "contentType": "Text/Plain"}})`);
  await waitText(byId("case-title"), "updated by boto3");
  await waitText(page.locator("#timeline .comment-body"), "Note from the integration");
  assert.equal(await page.getByLabel("Title").inputValue(), "Printer fire (updated by boto3)");
  assert.equal(await page.getByLabel("Summary").inputValue(), "typing, not saved yet");
  await page.screenshot({ path: path.join(SHOTS, "case-desktop.png") });

  // Close and reopen.
  await page.getByRole("button", { name: "Close case" }).click();
  await waitText(byId("case-status"), "Closed");
  await page.getByRole("button", { name: "Reopen case" }).click();
  await waitText(byId("case-status"), "Open");

  // The case list: free text, a filter on a custom field, and an empty result.
  boto3(`tid = c.list_templates(domainId="${domainId}")["templates"][0]["templateId"]
for i in range(3):
    c.create_case(domainId="${domainId}", templateId=tid, fields=[{"id": "title", "value": {"stringValue": f"Password reset {i}"}}])`);
  await page.getByRole("link", { name: "Cases", exact: true }).click();
  await waitText(byId("total-count"), "4 cases");
  await byId("search-term").fill("printer");
  await byId("search-term").press("Enter");
  await waitText(byId("total-count"), "1 case");
  await byId("search-term").fill("");
  await page.getByRole("button", { name: "Add filter" }).click();
  await page.getByLabel("Filter 1 field").selectOption({ label: "Amount (Number)" });
  await page.getByLabel("Filter 1 operator").selectOption("greaterThan");
  await page.getByLabel("Filter 1 value").fill("50");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await waitText(byId("total-count"), "1 case");
  assert.match(await page.locator("table.cases tbody").textContent(), /updated by boto3/);
  await page.getByLabel("Filter 1 value").fill("500");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await waitText(page.locator(".results .notice.empty"), "No cases match");
  await page.getByRole("button", { name: "Remove filter 1" }).click();
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await waitText(byId("total-count"), "4 cases");
  await byId("sort-field").selectOption({ label: "Title" });
  await byId("sort-order").selectOption("Asc");
  await page.locator("table.cases tbody tr").first().filter({ hasText: "Password reset 0" }).waitFor();

  // Keyboard: the focused control is visibly outlined.
  await page.locator("body").press("Tab");
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus is visible");
  await page.screenshot({ path: path.join(SHOTS, "cases-desktop.png") });

  // First screen of the list, measured in the browser from navigation start (reported only).
  await page.reload();
  await page.locator("#total-count").waitFor();
  const firstScreen = await page.evaluate(() => performance.getEntriesByName("caselist:first-screen")[0]?.startTime);
  assert.ok(firstScreen > 0);
  test.diagnostic?.(`case list first screen: ${firstScreen.toFixed(0)} ms`);
  console.log(`# case list first screen: ${firstScreen.toFixed(0)} ms (4 cases, debug build)`);

  // Phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, "cases-phone.png") });
  await page.goto(`${server.endpoint}/ui/#/d/${domainId}/case/${caseId}`);
  await page.locator("#case-title").waitFor();
  await page.screenshot({ path: path.join(SHOTS, "case-phone.png") });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at phone width (${overflow}px too wide)`);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Delete the case and the domain, each after a confirmation.
  await page.getByRole("button", { name: "Delete case" }).click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Delete" }).click();
  await waitText(byId("total-count"), "3 cases");
  await page.getByRole("link", { name: "Domains" }).click();
  await page.getByRole("button", { name: "Delete domain support desk" }).click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Delete" }).click();
  await waitText(page.locator(".notice.empty"), "No domains yet");

  assert.deepEqual(problems, []);
});
