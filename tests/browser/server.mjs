// Starts the real caseload binary on a free port (in memory) and stops it; the tests wait for
// its start-up lines, never for a fixed time.
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function binary() {
  if (process.env.CASELOAD_BIN) return process.env.CASELOAD_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(root, "target");
  return path.join(target, "debug", "caseload");
}

/** Starts `caseload serve` on a free port: in memory unless `args` names a `--data-dir`. */
export async function startServer(args = [], bin = binary()) {
  const store = args.includes("--data-dir") ? [] : ["--in-memory"];
  const child = spawn(bin, ["serve", ...store, "--listen", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const first = (await it.next()).value || "";
  const second = (await it.next()).value || "";
  if (!first.startsWith("listening on ")) throw new Error(`unexpected first line: ${first}`);
  return {
    endpoint: first.slice("listening on ".length),
    pageLine: second,
    stop: () => new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGTERM"); }),
  };
}

/** Runs Python with a boto3 client `c` of the server bound, and returns what it prints. */
export function boto3(endpoint, code) {
  return execFileSync("python3", ["-c", `import boto3, json, sys
c = boto3.client("connectcases", endpoint_url="${endpoint}", region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
${code}`], { encoding: "utf8" });
}
