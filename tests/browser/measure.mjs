// How long the case list's first screen takes on a large domain, measured in Chromium with the
// Performance API (opt-in; not part of the suite). It generates a domain of N cases with
// caseload-bench, imports it with `caseload import`, starts the release server on it and loads
// the case list several times, reporting each load's time from navigation start to the first
// drawn page of results (the page's `caselist:first-screen` mark) and the median.
//
//   cargo build --release -p caseload -p caseload-bench
//   node tests/browser/measure.mjs --cases 100000 [--loads 7] [--work-dir DIR] [--keep]
//   node tests/browser/measure.mjs --data-dir DIR      # again, on a domain imported before
//
// The binaries are taken from $CARGO_TARGET_DIR/release (or ./target/release; --bin-dir to
// choose another build).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { boto3, root, startServer } from "./server.mjs";
import { launch, signIn, watch } from "./browser.mjs";

const { values: opts } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    loads: { type: "string", default: "7" },
    "work-dir": { type: "string" },
    keep: { type: "boolean", default: false },
    "bin-dir": { type: "string" },
    "data-dir": { type: "string" },
  },
});
const cases = Number(opts.cases);
const loads = Number(opts.loads);
const release = opts["bin-dir"] || path.join(process.env.CARGO_TARGET_DIR || path.join(root, "target"), "release");
for (const bin of opts["data-dir"] ? ["caseload"] : ["caseload", "caseload-bench"]) {
  if (!existsSync(path.join(release, bin))) {
    console.error(`${path.join(release, bin)} is missing: cargo build --release -p caseload -p caseload-bench`);
    process.exit(1);
  }
}

const work = opts["data-dir"] ? null : opts["work-dir"] || mkdtempSync(path.join(os.tmpdir(), "caseload-measure-"));
const dataDir = opts["data-dir"] || path.join(work, "data");
if (work) {
  mkdirSync(work, { recursive: true });
  const file = path.join(work, `cases-${cases}.ndjson`);
  const seconds = (t0) => ((performance.now() - t0) / 1000).toFixed(0);
  let t0 = performance.now();
  execFileSync(path.join(release, "caseload-bench"), ["generate", "--cases", String(cases), "--output", file], { stdio: "inherit" });
  console.log(`generated ${cases} cases in ${seconds(t0)} s`);
  t0 = performance.now();
  rmSync(dataDir, { recursive: true, force: true });
  execFileSync(path.join(release, "caseload"), ["import", file, "--data-dir", dataDir, "--quiet"], { stdio: "inherit" });
  console.log(`imported in ${seconds(t0)} s`);
}

const server = await startServer(["--data-dir", dataDir], path.join(release, "caseload"));
const browser = await launch();
try {
  const domainId = boto3(server.endpoint, `print(c.list_domains()["domains"][0]["domainId"])`).trim();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(120000);
  const problems = watch(page);
  await page.goto(`${server.endpoint}/ui/`);
  await signIn(page);
  await page.locator("#domain-picker").waitFor();
  const url = `${server.endpoint}/ui/#/d/${domainId}/cases`;
  // Going to the list from the domains page changes only the hash (no navigation to time):
  // each measured load is a reload of the list.
  await page.goto(url);
  await page.locator("#total-count").waitFor();
  const times = [];
  for (let i = 0; i < loads; i++) {
    await page.reload();
    await page.locator("#total-count").waitFor();
    const m = await page.evaluate(() => {
      const mark = performance.getEntriesByName("caselist:first-screen")[0].startTime;
      const api = performance.getEntriesByType("resource").filter((e) => !new URL(e.name).pathname.startsWith("/ui/"));
      const search = api.find((e) => new URL(e.name).pathname.endsWith("/cases-search"));
      return {
        ms: mark,
        modules: performance.getEntriesByName("app:modules-loaded")[0].startTime,
        search: search ? `${Math.round(search.startTime)}–${Math.round(search.responseEnd)}` : "?",
        total: document.getElementById("total-count").textContent,
        apiBefore: api.filter((e) => e.startTime < mark).map((e) => `${new URL(e.name).pathname} ${Math.round(e.duration)} ms`),
      };
    });
    times.push(m.ms);
    console.log(`load ${i + 1}: first screen ${m.ms.toFixed(0)} ms (${m.total}); modules loaded at ${m.modules.toFixed(0)} ms, `
      + `SearchCases ${m.search} ms; API calls before it: ${m.apiBefore.join(", ")}`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`case list first screen over ${loads} loads: p50 ${sorted[Math.floor(loads / 2)].toFixed(0)} ms, `
    + `min ${sorted[0].toFixed(0)} ms, max ${sorted[loads - 1].toFixed(0)} ms`);
  if (problems.length) console.error(problems.join("\n"));
} finally {
  await browser.close();
  await server.stop();
  if (work && !opts.keep && !opts["work-dir"]) rmSync(work, { recursive: true, force: true });
}
