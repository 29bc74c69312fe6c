// Debian's Chromium through playwright-core (never a downloaded browser), and the watch every
// test keeps on the page: a script error or a console error fails the run.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Launches Chromium headless with flags that keep it off the network it does not need. */
export function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", ...extraArgs],
  });
}

/**
 * Collects the page's problems into an array. Chromium's own log line for an API call answered
 * with an error on purpose (a wrong secret, a rule violation) is not one: fetch cannot silence
 * it. A page file that fails to load still is.
 */
export function watch(page) {
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const url = m.location().url || "";
    const apiAnswer = /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
      && !(url && new URL(url).pathname.startsWith("/ui/"));
    if (!apiAnswer) problems.push(`console error: ${m.text()} (${url})`);
  });
  return problems;
}

/** Signs in on the page's sign-in form. */
export async function signIn(page, secret = "test") {
  await page.getByLabel("Access key ID").fill("test");
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
}
