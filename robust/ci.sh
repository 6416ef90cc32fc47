#!/usr/bin/env bash
# Robustness checks for CI (issue 6), to be called from .ci/run:
#
#   robust/ci.sh fuzz    bounded cargo-fuzz run of the parser+validator (FUZZ_SECONDS, default 60)
#   robust/ci.sh soak    flakiness soak: robust/soak SOAK_RUNS (default 200) idle + busy, then
#                        JITTER_RUNS (default 50) runs with --jitter 50 (each process at random
#                        fast or slow), where a race between steps shows in a few runs in a hundred
#   robust/ci.sh         both
#
# The malformed corpus itself is checked by `cargo test` (tests/cli.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fuzz() {
  local secs=${FUZZ_SECONDS:-60}
  if ! cargo fuzz --version >/dev/null 2>&1; then
    # Pinned: a new release could need a newer rustc or change its command line.
    cargo install cargo-fuzz --locked --version 0.13.2
  fi
  # cargo-fuzz passes -Zsanitizer=address, a nightly flag. Only stable is available here;
  # RUSTC_BOOTSTRAP=1 lets stable accept it (harmless on nightly).
  export RUSTC_BOOTSTRAP=1
  mkdir -p fuzz/corpus/parse_validate
  # The first directory collects new inputs (not committed); the checked-in scenarios and
  # malformed examples are the seeds. libFuzzer limits: 10 s per input, 1 GiB of RSS.
  (cd fuzz && cargo fuzz run parse_validate \
    "$root/fuzz/corpus/parse_validate" "$root/scenarios" "$root/harness/tests/malformed" \
    -- -max_total_time="$secs" -dict="$root/fuzz/yaml.dict" \
       -timeout=10 -rss_limit_mb=1024 -print_final_stats=1) || {
    echo "FAILED: the fuzzer found a crash; reproduce with:"
    for f in fuzz/artifacts/parse_validate/*; do
      [ -e "$f" ] && echo "  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run parse_validate ../$f)"
    done
    exit 1
  }
}

soak() {
  robust/soak "${SOAK_RUNS:-200}"
  robust/soak "${JITTER_RUNS:-50}" --idle-only --jitter 50
}

case "${1:-all}" in
  fuzz) fuzz ;;
  soak) soak ;;
  all) fuzz; soak ;;
  *) echo "usage: robust/ci.sh [fuzz|soak|all]" >&2; exit 2 ;;
esac
