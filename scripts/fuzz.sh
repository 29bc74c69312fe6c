#!/usr/bin/env bash
# The fuzz targets in fuzz/ (cargo-fuzz, libFuzzer), on the stable toolchain: `-s none` (no
# sanitizer; ASan needs nightly, and safe Rust rarely needs it) and `-a` (debug assertions and
# overflow checks, as in the tests).
#
#   scripts/fuzz.sh smoke                 build every target once, run each for $FUZZ_SECONDS
#                                         (default 20) from the committed corpus; what CI runs
#   scripts/fuzz.sh run TARGET [SECONDS]  a long run (default 600 s); new inputs go into
#                                         fuzz/corpus/TARGET, crashes into fuzz/artifacts/TARGET
#   scripts/fuzz.sh cmin [TARGET...]      minimise the committed corpora (after a long run)
#   scripts/fuzz.sh seed                  rebuild the corpora from the seeds (fuzz/seeds), then
#                                         minimise them
#
# The build shares CARGO_TARGET_DIR with the workspace (under its own target triple, since the
# instrumentation flags differ), so CI reuses it from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/caseload-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TARGETS=(wire_request search_filter sigv4 next_token import_lines)
FLAGS=(-s none -a)

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "== installing cargo-fuzz"
        # Built in a scratch directory of its own, not in the project's target dir.
        env -u CARGO_TARGET_DIR cargo install cargo-fuzz --version 0.13.2 --locked
    fi
}

# libFuzzer options of a target: its dictionary, if it has one.
options() {
    local dict="fuzz/dicts/$1.dict"
    if [[ -f "$dict" ]]; then
        echo "-dict=$dict"
    fi
}

run_target() {
    local target="$1" seconds="$2"
    shift 2
    # Inputs that time out or exhaust memory are findings too.
    cargo fuzz run "${FLAGS[@]}" "$target" "$@" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        $(options "$target")
}

build() {
    ensure_cargo_fuzz
    echo "== building the fuzz targets"
    cargo fuzz build "${FLAGS[@]}"
}

case "${1:-smoke}" in
    smoke)
        seconds="${FUZZ_SECONDS:-20}"
        build
        for target in "${TARGETS[@]}"; do
            echo "== fuzz $target for ${seconds}s"
            # New inputs go to a scratch directory: the committed corpus is only read.
            scratch="$(mktemp -d)"
            if ! run_target "$target" "$seconds" "$scratch" "fuzz/corpus/$target" >"$scratch.log" 2>&1; then
                # The whole log: the failing input, the panic and its backtrace.
                cat "$scratch.log"
                rm -rf "$scratch" "$scratch.log"
                exit 1
            fi
            grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch.log" || true
            rm -rf "$scratch" "$scratch.log"
        done
        ;;
    run)
        target="${2:?usage: scripts/fuzz.sh run TARGET [SECONDS]}"
        build
        run_target "$target" "${3:-600}"
        ;;
    cmin)
        shift
        build
        for target in "${@:-${TARGETS[@]}}"; do
            echo "== minimising fuzz/corpus/$target"
            cargo fuzz cmin "${FLAGS[@]}" "$target"
        done
        ;;
    seed)
        seeds="$(mktemp -d)"
        python3 fuzz/seeds/make_seeds.py "$seeds" crates/auth/tests/data/sigv4-vectors.jsonl
        cargo build -p caseload-bench --locked
        for n in 3 12; do
            "$CARGO_TARGET_DIR/debug/caseload-bench" generate --cases "$n" --seed "$n" \
                --output "$seeds/import_lines/generated-$n"
        done
        build
        for target in "${TARGETS[@]}"; do
            mkdir -p "fuzz/corpus/$target"
            cp "$seeds/$target"/* "fuzz/corpus/$target/"
            cargo fuzz cmin "${FLAGS[@]}" "$target"
        done
        rm -rf "$seeds"
        ;;
    *)
        sed -n '2,16p' "$0"
        exit 2
        ;;
esac
