// The case rule editor's condition tree: a group of comparisons (any of / all of) beside plain
// ones, saved as the API's nested orAll/andAll, shown again as a tree and edited; queue ARNs
// suggested from those the domain's cases carry (there is no directory, and the page says so).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boto3 as boto3At, startServer } from "./server.mjs";
import { launch, signIn, watch } from "./browser.mjs";

const QUEUE = "arn:aws:connect:us-east-1:123456789012:instance/i-1/queue/q-billing";
let server;
let browser;
let ids;
const boto3 = (code) => boto3At(server.endpoint, code);

before(async () => {
  server = await startServer();
  ids = JSON.parse(boto3(`d = c.create_domain(name="rules")["domainId"]
p = c.create_field(domainId=d, name="Priority", type="SingleSelect")["fieldId"]
c.batch_put_field_options(domainId=d, fieldId=p, options=[{"name": "High", "value": "high", "active": True}, {"name": "Low", "value": "low", "active": True}])
a = c.create_field(domainId=d, name="Amount", type="Number")["fieldId"]
t = c.create_template(domainId=d, name="Plain", status="Active")["templateId"]
c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": {"stringValue": "Billing question"}},
    {"id": "assigned_queue", "value": {"stringValue": "${QUEUE}"}}])
print(json.dumps({"d": d, "priority": p, "amount": a}))`));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const savedRule = (id) => JSON.parse(boto3(`print(json.dumps(c.batch_get_case_rule(domainId="${ids.d}", caseRules=[{"id": "${id}"}])["caseRules"][0]["rule"]))`));

test("a case rule with a group of conditions is built, saved, shown and edited as a tree", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  const problems = watch(page);
  await page.goto(`${server.endpoint}/ui/`);
  await signIn(page);
  await page.getByRole("button", { name: "Delete domain rules" }).waitFor();
  await page.goto(`${server.endpoint}/ui/#/d/${ids.d}/admin/rules/new`);
  await page.locator("#rule-name").fill("Amount for urgent billing");
  await page.locator("#arn-note").filter({ hasText: "no directory of Amazon Connect queues and users" }).waitFor();

  // Condition 1: a group — any of (Priority is high, Assigned queue is the billing queue).
  await page.getByRole("button", { name: "Add group" }).click();
  await page.getByLabel("Condition 1.1 field").selectOption({ label: "Priority" });
  await page.getByLabel("Condition 1.1 value").fill("high");
  await page.getByLabel("Condition 1.1 value").press("Tab");
  await page.getByLabel("Condition 1.2 field").selectOption({ label: "Assigned queue" });
  const offered = page.locator("#values-1-2 option");
  await offered.first().waitFor({ state: "attached" });
  assert.deepEqual(await offered.evaluateAll((os) => os.map((o) => o.value)), [QUEUE], "the queue seen on a case is offered");
  await page.getByLabel("Condition 1.2 value").fill(QUEUE);
  await page.getByLabel("Condition 1.2 value").press("Tab");
  // Condition 2, after the group: Priority is low → not required.
  await page.getByRole("button", { name: "Add condition", exact: true }).click();
  await page.getByLabel("Condition 2 field").selectOption({ label: "Priority" });
  await page.getByLabel("Condition 2 value").fill("low");
  await page.getByLabel("Condition 2 result").selectOption("false");
  await page.getByRole("button", { name: "Create case rule" }).click();
  await page.locator("#rule-editor h2").filter({ hasText: "Case rule: Amount for urgent billing" }).waitFor();
  const ruleId = decodeURIComponent(/rules\/([^/?]+)$/.exec(page.url())[1]);

  const leaf = (op, fieldId, two, result) => ({ [op]: { operandOne: { fieldId }, operandTwo: two, result } });
  assert.deepEqual(savedRule(ruleId), { required: { defaultValue: false, conditions: [
    { orAll: { conditions: [leaf("equalTo", ids.priority, { stringValue: "high" }, true), leaf("equalTo", "assigned_queue", { stringValue: QUEUE }, true)] } },
    leaf("equalTo", ids.priority, { stringValue: "low" }, false),
  ] } });

  // Opened again, the group is a tree to edit: make it "all of" and drop its second comparison.
  await page.reload();
  assert.equal(await page.getByLabel("Condition 1.2 value").inputValue(), QUEUE);
  await page.getByLabel("Group 1 kind").selectOption({ label: "All of" });
  await page.getByRole("button", { name: "Remove condition 1.2" }).click();
  await page.getByRole("button", { name: "Add condition to group 1" }).click();
  await page.getByLabel("Condition 1.2 field").selectOption({ label: "Amount" });
  await page.getByLabel("Condition 1.2 operator").selectOption("notEqualTo");
  await page.getByRole("button", { name: "Save case rule" }).click();
  await page.locator("#rule-editor .saved").filter({ hasText: "Saved." }).waitFor();
  assert.deepEqual(savedRule(ruleId).required.conditions[0], { andAll: { conditions: [
    leaf("equalTo", ids.priority, { stringValue: "high" }, true), leaf("notEqualTo", ids.amount, { emptyValue: {} }, true),
  ] } });
  assert.deepEqual(problems, []);
});
