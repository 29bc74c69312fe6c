// The case list following changes made elsewhere, and the case view's tags, custom items,
// linked cases picked by search and merging, each in one flow against the real server. The
// domain is set up with boto3; everything checked is done through the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boto3 as boto3At, startServer } from "./server.mjs";
import { launch, signIn, watch } from "./browser.mjs";

let server;
let browser;
let page;
let problems;
let ids;
const boto3 = (code) => boto3At(server.endpoint, code);

before(async () => {
  server = await startServer();
  ids = JSON.parse(boto3(`d = c.create_domain(name="desk")["domainId"]
c.create_field(domainId=d, name="Amount", type="Number")
c.create_field(domainId=d, name="Runbook", type="Url")
t = c.create_template(domainId=d, name="Plain", status="Active")["templateId"]
c.put_case_event_configuration(domainId=d, eventBridge={"enabled": True})
def case(title):
    return c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": {"stringValue": title}}])["caseId"]
ids = {"d": d, "t": t, "printer": case("Printer on fire"), "paper": case("Paper jam in building 7"), "toner": case("Toner leak in building 7")}
for i in range(20):
    case(f"Older case {i}")
c.create_related_item(domainId=d, caseId=ids["toner"], type="Comment", content={"comment": {"body": "Toner everywhere", "contentType": "Text/Plain"}})
print(json.dumps(ids))`));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
  page.setDefaultTimeout(15000);
  problems = watch(page);
  await page.goto(`${server.endpoint}/ui/`);
  await signIn(page);
  await page.getByRole("button", { name: "Delete domain desk" }).waitFor();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the case list shows cases created and changed elsewhere, keeping what is typed and the scroll", async () => {
  await page.goto(`${server.endpoint}/ui/#/d/${ids.d}/cases`);
  await page.locator("#live-state").filter({ hasText: "Live" }).waitFor();
  await page.locator("#total-count").filter({ hasText: "23 cases" }).waitFor();
  await page.locator("#search-term").fill("not searched yet");
  await page.evaluate(() => window.scrollTo(0, 200));
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 0, "the list scrolls at this height");
  boto3(`c.create_case(domainId="${ids.d}", templateId="${ids.t}", fields=[{"id": "title", "value": {"stringValue": "Created elsewhere"}}])
c.update_case(domainId="${ids.d}", caseId="${ids.printer}", fields=[{"id": "title", "value": {"stringValue": "Printer on fire, again"}}])`);
  await page.locator("#total-count").filter({ hasText: "24 cases" }).waitFor();
  await page.locator("table.cases tbody tr.updated").filter({ hasText: "Created elsewhere" }).waitFor();
  await page.locator("table.cases tbody tr.updated").filter({ hasText: "Printer on fire, again" }).waitFor();
  assert.equal(await page.locator("table.cases tbody tr.updated").count(), 2, "only new and changed rows are marked");
  assert.equal(await page.locator("#search-term").inputValue(), "not searched yet");
  assert.equal(await page.evaluate(() => window.scrollY), y);
});

test("a case's tags, a custom item, a linked case and a merge, from the case view", async () => {
  await page.goto(`${server.endpoint}/ui/#/d/${ids.d}/case/${ids.printer}`);
  await page.locator("#case-title").filter({ hasText: "Printer on fire" }).waitFor();

  // Tags: add, then remove.
  await page.locator("#tags").filter({ hasText: "No tags." }).waitFor();
  await page.getByLabel("Key", { exact: true }).fill("team");
  await page.getByLabel("Value", { exact: true }).fill("facilities");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.locator("#tags .tag").filter({ hasText: "team: facilities" }).waitFor();
  assert.match(boto3(`arn = c.get_domain(domainId="${ids.d}")["domainArn"] + "/case/${ids.printer}"
print(c.list_tags_for_resource(arn=arn)["tags"])`), /'team': 'facilities'/);
  await page.getByRole("button", { name: "Remove tag team" }).click();
  await page.locator("#tags").filter({ hasText: "No tags." }).waitFor();

  // A custom item with two typed values.
  await page.getByLabel("Kind of item").selectOption({ label: "Custom item" });
  await page.getByLabel("Custom field 1", { exact: true }).selectOption({ label: "Amount" });
  await page.getByLabel("Custom value 1").fill("7");
  await page.getByRole("button", { name: "Add a field" }).click();
  await page.getByLabel("Custom field 2", { exact: true }).selectOption({ label: "Runbook" });
  await page.getByLabel("Custom value 2").fill("https://runbooks.example/fire");
  await page.locator("#add-item-submit").click();
  await page.locator("#timeline .custom-body").filter({ hasText: "Amount: 7 · Runbook: https://runbooks.example/fire" }).waitFor();

  // A linked case, picked by searching for it.
  await page.getByLabel("Kind of item").selectOption({ label: "Linked case" });
  await page.locator("#add-item-submit").click();
  await page.locator("#item-error").filter({ hasText: "pick it" }).waitFor();
  await page.getByLabel("Case to link", { exact: true }).fill("paper");
  await page.getByLabel("Paper jam in building 7").check();
  await page.locator("#add-item-submit").click();
  await page.locator("#timeline .linked-case").filter({ hasText: "Paper jam in building 7" }).waitFor();

  // Merge another case into this one: its comment moves here, it is closed.
  await page.locator("#merge-card summary").click();
  await page.getByLabel("Case to merge into this one", { exact: true }).fill("toner");
  await page.getByLabel("Toner leak in building 7").check();
  await page.getByRole("button", { name: "Merge", exact: true }).click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Merge" }).click();
  await page.locator("#merge-status").filter({ hasText: "Merged “Toner leak in building 7” into this case" }).waitFor();
  await page.locator("#timeline .comment-body").filter({ hasText: "Toner everywhere" }).waitFor();
  await page.locator("#audit .kind").filter({ hasText: "Case.Merged" }).first().waitFor();
  assert.equal(boto3(`print(c.get_case(domainId="${ids.d}", caseId="${ids.toner}", fields=[{"id": "status"}])["fields"][0]["value"]["stringValue"])`).trim(), "closed");

  assert.deepEqual(problems, []);
});
