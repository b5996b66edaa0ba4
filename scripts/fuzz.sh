#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ on stable Rust (`--sanitizer none`), starting from the
# committed corpus (fuzz/corpus/, seeded from PROTOCOL.md by scripts/fuzz_corpus.py). New
# inputs go to a scratch directory, so the repository is not changed; a crash fails the run
# and leaves its input in fuzz/artifacts/.
#
#   scripts/fuzz.sh                          # CI smoke run: 10 s per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh         # longer
#   FUZZ_RUNS=10000000 FUZZ_TARGETS="decode_json decode_msgpack" scripts/fuzz.sh
#
# Installs cargo-fuzz from crates.io when it is missing; no nightly toolchain.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chatcore-target}-fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: installing it (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked
fi
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
if [ -n "${FUZZ_RUNS:-}" ]; then limit="-runs=$FUZZ_RUNS"; else limit="-max_total_time=${FUZZ_SECONDS:-10}"; fi
cargo fuzz build --sanitizer none
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  mkdir -p "$scratch/$target"
  echo "=== $target ($limit)"
  log="$scratch/$target.log"
  if ! cargo fuzz run --sanitizer none "$target" "$scratch/$target" "corpus/$target" -- \
    "$limit" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed (its input is in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done)' "$log" || true
done
