#!/usr/bin/env bash
# Long fuzz runs with libFuzzer (docs/fuzzing.md). The short runs are in
# ctest; this builds the targets of tests/fuzz with clang, libFuzzer, ASan and
# UBSan into ./build-fuzz (CUSTODIAN_FUZZ=ON: the libraries and the fuzz
# targets, nothing else) and runs each for SECONDS.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]      SECONDS defaults to 60; TARGET is
#                                            request_parser, cloudevents or
#                                            event_json (default: all three)
#
# Each run starts from the seeds in tests/fuzz/corpus/TARGET (never written)
# and keeps the inputs it finds in build-fuzz/corpus/TARGET, so a second run
# goes on from there. A crash or sanitizer report stops the run, leaves the
# input in build-fuzz/crashes/ and makes the script fail; replay it with
#   build-fuzz/tests/fuzz/fuzz_TARGET build-fuzz/crashes/TARGET-crash-...
# Needs clang and libFuzzer (Debian: clang-14, which brings libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(request_parser cloudevents event_json)
for t in "${targets[@]}"; do
  if [[ ! -f tests/fuzz/fuzz_$t.cc ]]; then
    echo "fuzz.sh: no fuzz target '$t' (tests/fuzz/fuzz_$t.cc); the targets are request_parser, cloudevents, event_json" >&2
    exit 2
  fi
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCUSTODIAN_FUZZ=ON "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j2 --target fuzz_targets

# Inputs longer than the server's 16 KiB header limit reach the 431 path.
declare -A max_len=([request_parser]=20000 [cloudevents]=8192 [event_json]=8192)
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" build-fuzz/crashes
  before=$(find "build-fuzz/corpus/$t" -type f | wc -l)
  echo "== fuzz_$t for ${seconds}s (corpus: $before found before, seeds in tests/fuzz/corpus/$t)"
  log="build-fuzz/fuzz_$t.log"
  if build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" -max_len="${max_len[$t]}" -print_final_stats=1 \
       -artifact_prefix="build-fuzz/crashes/$t-" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>"$log"; then
    grep -E '^(INFO: (Seed|Loaded|-max_len)|#[0-9]+[[:space:]]+(INITED|DONE)|Done [0-9]+ runs|stat::)' "$log" || true
  else
    tail -n 60 "$log" >&2
    echo "== fuzz_$t: FAILED (the whole report is in $log; the input in build-fuzz/crashes/)" >&2
    status=1
  fi
  after=$(find "build-fuzz/corpus/$t" -type f | wc -l)
  echo "== fuzz_$t: corpus $before -> $after inputs found; log in $log"
done
exit $status
