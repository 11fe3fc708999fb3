#!/usr/bin/env bash
# Runs every fuzz target (server/fuzz/fuzz_targets/) for FUZZ_SECONDS each (default 60),
# growing and then minimising its corpus in server/fuzz/corpus/<target>/. FUZZ_TARGETS picks
# some. libFuzzer (libfuzzer-sys) on the stable toolchain: coverage instrumentation without a
# sanitizer, which safe Rust does not need; the targets' checks are assertions. A failing
# input is saved in server/fuzz/artifacts/<target>/: fix the code and copy the input into
# server/fuzz/regressions/<target>/, which `make test` replays with the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(ls server/fuzz/fuzz_targets | sed 's/\.rs$//')}
# Instrumented code never shares a target directory with the normal build.
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR-fuzz"
triple=$(rustc -vV | sed -n 's/^host: //p')
coverage="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
for option in inline-8bit-counters pc-table trace-compares; do
  coverage+=" -Cllvm-args=-sanitizer-coverage-$option"
done
# --target keeps the flags off build scripts and proc macros.
RUSTFLAGS="--cfg fuzzing $coverage" \
  cargo build --profile fuzz -p atom-fuzz --features libfuzzer --bins --target "$triple"

cd server/fuzz
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  printf '\n==> fuzzing %s for %ss\n' "$target" "$seconds"
  mkdir -p "corpus/$target" "artifacts/$target"
  # The fuzzer grows a copy: the committed corpus changes only once, at the end (a test run
  # replaying it meanwhile never sees files come and go).
  rm -rf "$scratch/$target" && cp -r "corpus/$target" "$scratch/$target"
  "$CARGO_TARGET_DIR/$triple/fuzz/$target" "$scratch/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1
  # The smallest set of inputs that keeps every feature found, so the corpus stays small.
  rm -rf "$scratch/$target.min" && mkdir "$scratch/$target.min"
  "$CARGO_TARGET_DIR/$triple/fuzz/$target" -set_cover_merge=1 "$scratch/$target.min" \
    "$scratch/$target" 2>/dev/null
  rm -rf "corpus/$target" && mv "$scratch/$target.min" "corpus/$target"
  echo "corpus/$target: $(ls "corpus/$target" | wc -l) inputs"
done
