#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, the generated-code check, unit
# tests, the Rust SDK suite, a short run of every fuzz target, the boto3 / AWS CLI suite and
# the web page in Chromium against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/caseload-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Debian's Chromium drives the page; installed here (not only in CI) so that this script alone
# runs the whole suite on a fresh machine; checked first, so a missing tool fails in seconds, not
# after the builds. About a minute when missing, nothing otherwise.
echo "== prerequisites of the web page's tests"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "The web page's tests need Node.js 20+ and npm (Debian: apt-get install nodejs npm)." >&2
    exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "The web page's tests need Chromium at /usr/bin/chromium: apt-get install chromium" >&2
        echo "(as root, this script installs it itself), then rerun." >&2
        exit 1
    fi
fi

# CI requires the PostgreSQL backend's tests to run (CASELOAD_REQUIRE_POSTGRES): fail now, not after
# the builds, when the server they need is not up.
if [ -n "${CASELOAD_REQUIRE_POSTGRES:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "CASELOAD_REQUIRE_POSTGRES is set but no PostgreSQL answers on 127.0.0.1:5432." >&2
    exit 1
fi

echo "== python test dependencies"
python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

echo "== format and lints"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p caseload-store --all-targets --features failpoints --locked -- -D warnings

echo "== build the server the suites drive"
cargo build -p caseload --locked

# caseload-store's `postgres` tests need PostgreSQL on 127.0.0.1:5432 (trust auth; each test makes
# and drops a database of its own, and starts a private server with initdb/pg_ctl for the restart
# test). Without one they skip with a note, unless CASELOAD_REQUIRE_POSTGRES is set (CI sets it).
echo "== Rust tests (unit, generated-code check, PostgreSQL backend, aws-sdk-connectcases suite)"
cargo test --workspace --locked

echo "== fault injection (the store built with its fault points)"
# Fault points are process-wide: while one test arms `sqlite.wal_sync`, every other test in the
# same process that syncs a WAL fails too. The unit tests therefore run one at a time here (a few
# seconds); `faults.rs` serializes itself (each test holds a `fail::FailScenario`).
cargo test -p caseload-store --features failpoints --locked --lib -- --test-threads=1
cargo test -p caseload-store --features failpoints --locked --test faults

echo "== benchmark smoke test (a few hundred cases: it must work, the numbers mean nothing)"
bench_tmp="$(mktemp -d)"
cargo build -p caseload-bench --locked
"$CARGO_TARGET_DIR/debug/caseload-bench" run --quick --sizes 300 \
    --work-dir "$bench_tmp/work" --results-dir "$bench_tmp" --markdown "$bench_tmp/BENCHMARKS.md"
rm -rf "$bench_tmp"

echo "== fuzz targets, briefly (scripts/fuzz.sh: built once, ${FUZZ_SECONDS:-20} s each from fuzz/corpus)"
./scripts/fuzz.sh smoke

echo "== boto3 and AWS CLI suite"
CASELOAD_BIN="$CARGO_TARGET_DIR/debug/caseload" python3 -m pytest -q tests/python

# The same suites with every server on PostgreSQL (scale-out mode): each test server gets a
# database of its own, created before it starts and dropped after it stops, and the SDK suite's
# fleet tests run three servers on one database. The whole SDK suite; of the Python suite the
# files whose behaviour goes through the store. Left out, as they exercise code no store is under
# (the listener, signing, the wire protocol, failures on demand) or the embedded mode's own
# SQLite file and tools (durability): running them twice would add minutes and test nothing new.
pg_admin_url="${CASELOAD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "${CASELOAD_TEST_DATABASE_URL:-}" ]; then
    echo "== aws-sdk-connectcases suite and boto3 / AWS CLI suite on PostgreSQL"
    CASELOAD_TEST_DATABASE_URL="$pg_admin_url" cargo test -p caseload-sdk-tests --locked --test api
    CASELOAD_TEST_DATABASE_URL="$pg_admin_url" CASELOAD_BIN="$CARGO_TARGET_DIR/debug/caseload" \
        python3 -m pytest -q tests/python/test_batch_update.py tests/python/test_cases.py \
        tests/python/test_client_tokens.py tests/python/test_events.py tests/python/test_merge.py \
        tests/python/test_operability.py tests/python/test_related.py tests/python/test_rules.py \
        tests/python/test_schema.py
elif [ -n "${CASELOAD_REQUIRE_POSTGRES:-}" ]; then
    echo "CASELOAD_REQUIRE_POSTGRES is set but no PostgreSQL answers on 127.0.0.1:5432." >&2
    exit 1
else
    echo "== SKIPPED: the API suites on PostgreSQL (no PostgreSQL on 127.0.0.1:5432)"
fi

echo "== web page in Chromium (tests/browser: node's test runner, playwright-core, /usr/bin/chromium)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
# Screenshots of this run go to a scratch folder; docs/screenshots/ is refreshed by running
# the test by hand (see README, "Web page").
shots_tmp="$(mktemp -d)"
CASELOAD_BIN="$CARGO_TARGET_DIR/debug/caseload" CASELOAD_SCREENSHOTS="$shots_tmp" \
    node --test --test-concurrency=1 tests/browser/vendored.test.mjs tests/browser/transport.test.mjs \
    tests/browser/caseview.test.mjs tests/browser/rules.test.mjs \
    tests/browser/ui.test.mjs
rm -rf "$shots_tmp"

# Last: it is the slowest step. About a minute: 2 kill -9 rounds, a 32 MB disk-full episode on a tmpfs, the
# clientToken races and a 20 s soak, with the debug build.
echo "== reliability smoke run (kill -9, disk full, clientToken races, soak)"
reliability_tmp="$(mktemp -d)"
if ! "$CARGO_TARGET_DIR/debug/caseload-bench" reliability --quick \
    --work-dir "$reliability_tmp/work" --results-dir "$reliability_tmp" \
    --markdown "$reliability_tmp/RELIABILITY.md"; then
    cat "$reliability_tmp/RELIABILITY.md" || true
    echo "the servers' log: $reliability_tmp/work/server.log"
    exit 1
fi
rm -rf "$reliability_tmp"
