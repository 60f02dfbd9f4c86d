#!/usr/bin/env bash
# Runs each fuzz target (router, transformation parser, URL and upload signatures) for a bounded time and prints
# libFuzzer's final statistics. Usage: scripts/fuzz.sh [seconds per target = 60] [target ...]
# Needs cargo-fuzz (installed here when missing); runs on the stable toolchain through
# RUSTC_BOOTSTRAP, as cargo-fuzz needs unstable sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(route transformation signature upload_signature)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in "${TARGETS[@]}"; do
  echo "== $target (${SECONDS_PER_TARGET}s)"
  mkdir -p "fuzz/corpus/$target"
  cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==.*ERROR|SUMMARY)" || true
done
