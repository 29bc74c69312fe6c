"""An A/B benchmark of two builds of the server on a shared machine: runs `caseload-bench run`
for each in turn, interleaved (A B, B A, A B, ...: a drift of the machine's speed over the
rounds then hits both sides alike), and compares per measurement the median over rounds, and
the ratio to the same run's baseline (bare endpoint, raw SQLite transactions).

    python3 scripts/bench-ab.py run BENCH_BIN A_DIR:A_CHECKOUT B_DIR:B_CHECKOUT \
        --rounds 3 --size 10000 --out bench/results/ab-DATE [--first N] [-- extra bench args]
    python3 scripts/bench-ab.py compare bench/results/ab-DATE

A_DIR and B_DIR each hold a release `caseload` binary; BENCH_BIN (one load generator for both
sides) is copied beside each, since the bench starts the `caseload` next to itself. Each run
starts in its side's checkout, so the results record that side's commit. `run` writes
`{label}-{round}-{size}.json` per run and `runs.tsv` (start time and load average before
each run); `compare` prints Markdown tables.
"""
import json, os, shutil, statistics, subprocess, sys, time
from pathlib import Path


def run(argv):
    bench, sides, extra = argv[0], [], []
    rounds, size, out, first = 3, 10000, None, 1
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            extra = argv[i + 1:]
            break
        if a == "--rounds":
            rounds, i = int(argv[i + 1]), i + 2
        elif a == "--size":
            size, i = int(argv[i + 1]), i + 2
        elif a == "--first":
            first, i = int(argv[i + 1]), i + 2
        elif a == "--out":
            out, i = Path(argv[i + 1]), i + 2
        else:
            bindir, checkout = a.split(":", 1)
            sides.append((Path(bindir), Path(checkout)))
            i += 1
    if len(sides) != 2 or out is None:
        sys.exit(__doc__)
    out.mkdir(parents=True, exist_ok=True)
    for bindir, _ in sides:
        shutil.copy2(bench, bindir / "caseload-bench")
    labels = ["A", "B"]
    log = open(out / "runs.tsv", "a")
    # `--first N` adds rounds N, N+1, ... to an earlier run's directory.
    for r in range(first - 1, first - 1 + rounds):
        # A B, then B A: a linear drift over the run costs both sides the same.
        order = [0, 1] if r % 2 == 0 else [1, 0]
        for k in order:
            bindir, checkout = sides[k]
            label = labels[k]
            load = Path("/proc/loadavg").read_text().split()[:3]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            work = Path(f"/tmp/bench-ab-work-{os.getpid()}")
            tmp = Path(f"/tmp/bench-ab-out-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            print(f"[ab] round {r + 1} {label} ({bindir}) at {stamp}, load {' '.join(load)}",
                  flush=True)
            t = time.time()
            subprocess.run(
                [str(bindir / "caseload-bench"), "run", "--sizes", str(size),
                 "--work-dir", str(work), "--results-dir", str(tmp),
                 "--markdown", str(tmp / "BENCHMARKS.md"), *extra],
                cwd=checkout, check=True)
            (result,) = tmp.glob("run-*.json")
            name = f"{label}-{r + 1}-{size}.json"
            shutil.copy2(result, out / name)
            log.write(f"{name}\t{stamp}\t{' '.join(load)}\t{time.time() - t:.0f}\n")
            log.flush()
            shutil.rmtree(tmp, ignore_errors=True)


def metrics(path):
    """Every measurement of one run's (only) size as name -> value."""
    d = json.loads(Path(path).read_text())
    (s,) = d["sizes"]
    m = {}
    bare1 = s["bare"][0]["p50_ms"]
    sqlite = d["sqlite_baseline"]["per_second"]
    m["baseline: raw SQLite tx/s"] = sqlite
    for q in s["search"]:
        st = q["stats"]
        m[f"search {q['name']} p50 ms"] = st["p50_ms"]
        m[f"search {q['name']} p50 ÷ bare p50"] = st["p50_ms"] / bare1
        if st.get("server_cpu_us") is not None:
            m[f"search {q['name']} server µs"] = st["server_cpu_us"]
    for op, key, base in [("bare", "bare", None), ("GetCase", "get_case", "bare"),
                          ("CreateCase", "create_case", "sqlite"),
                          ("UpdateCase", "update_case", "sqlite")]:
        for i, st in enumerate(s[key]):
            c = st["clients"]
            m[f"{op}@{c} req/s"] = st["per_second"]
            if base == "bare":
                m[f"{op}@{c} ÷ bare"] = st["per_second"] / s["bare"][i]["per_second"]
            elif base == "sqlite":
                m[f"{op}@{c} ÷ SQLite"] = st["per_second"] / sqlite
            if st.get("server_cpu_us") is not None:
                m[f"{op}@{c} server µs"] = st["server_cpu_us"]
            if st.get("client_cpu_us") is not None:
                m[f"{op}@{c} client µs"] = st["client_cpu_us"]
    v = s["visibility"]
    m["write → visible p50 ms"] = v["create_to_visible"]["p50_ms"]
    m["import s"] = s["import_s"]
    return d["machine"]["commit"], s["load_before"], m


def fmt(v):
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def compare(argv):
    out = Path(argv[0])
    runs = {"A": [], "B": []}
    for p in sorted(out.glob("[AB]-*.json")):
        runs[p.name[0]].append((p.name, *metrics(p)))
    commits = {k: sorted({c for _, c, _, _ in v}) for k, v in runs.items()}
    print(f"A = {', '.join(commits['A'])}; B = {', '.join(commits['B'])}\n")
    print("| run | load before |\n|---|---|")
    for p in sorted(out.glob("[AB]-*.json"), key=lambda p: p.stat().st_mtime):
        print(f"| {p.stem} | {metrics(p)[1]} |")
    names = list(runs["A"][0][3].keys())
    n = max(len(runs["A"]), len(runs["B"]))
    head = " | ".join([f"A{i + 1}" for i in range(n)] + [f"B{i + 1}" for i in range(n)])
    print(f"\n| measurement | {head} | A median | B median | B ÷ A | spread A | spread B |")
    print("|---|" + "---:|" * (2 * n + 5))
    for name in names:
        a = [m[name] for _, _, _, m in runs["A"] if name in m]
        b = [m[name] for _, _, _, m in runs["B"] if name in m]
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        spread = lambda xs, med: f"{(max(xs) - min(xs)) / med * 100:.0f}%" if med else "-"
        cells = [fmt(x) for x in a] + [""] * (n - len(a)) + [fmt(x) for x in b] + [""] * (n - len(b))
        ratio = f"{mb / ma:.2f}" if ma else "-"
        print(f"| {name} | {' | '.join(cells)} | {fmt(ma)} | {fmt(mb)} | {ratio} | "
              f"{spread(a, ma)} | {spread(b, mb)} |")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("run", "compare"):
        sys.exit(__doc__)
    (run if sys.argv[1] == "run" else compare)(sys.argv[2:])
