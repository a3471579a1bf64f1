#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with AddressSanitizer,
# from the committed seeds, on the stable toolchain (RUSTC_BOOTSTRAP=1 lets it
# take the -Z flags cargo-fuzz passes; its sanitizer runtimes ship with it).
# Needs no cargo-fuzz: it builds with the flags cargo-fuzz uses. A crash stops
# the run with libFuzzer's report and the input in fuzz/artifacts/<target>/.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(stamp_open ping_query next_path cookie_header request_provenance)
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Zsanitizer=address -Cforce-frame-pointers"
# --target keeps these flags off build scripts and proc macros, as cargo-fuzz does.
bins=()
for target in "${targets[@]}"; do bins+=(--bin "$target"); done
cargo build --release --target "$triple" "${bins[@]}"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzz $target for ${seconds}s"
  log="artifacts/$target/last-run.log"
  set +e
  "target/$triple/release/$target" "corpus/$target" "seeds/$target" \
    -max_total_time="$seconds" -max_len=4096 -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz $target failed (exit $status): the input is in fuzz/artifacts/$target/, the log in $log" >&2
    exit 1
  fi
done
echo "== fuzz: ${#targets[@]} target(s), ${seconds}s each, no crash"
