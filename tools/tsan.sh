#!/usr/bin/env bash
# The test programs of the concurrent parts under ThreadSanitizer: builds them
# into ./build-tsan (CUSTODIAN_TSAN=ON, RelWithDebInfo) and runs each one,
# failing on any report. Not part of ctest: the build takes ~10 minutes per
# program on 2 cores, and the tests run several times slower.
#
#   tools/tsan.sh [PROGRAM...]     PROGRAM is a test program of tests/, e.g.
#                                  storage_tests (the default), replay_tests,
#                                  service_tests, cluster_tests
#
# $BUILD_TSAN names another build directory (default build-tsan).
# RocksDB is not instrumented: tests/tsan.supp suppresses what happens inside
# it. Catch2's assertions are not thread-safe either, so a report inside
# Catch2 means a test asserts from a thread of its own (check on the test's
# thread instead).
set -euo pipefail
cd "$(dirname "$0")/.."
programs=("$@")
[[ ${#programs[@]} -gt 0 ]] || programs=(storage_tests)
build=${BUILD_TSAN:-build-tsan}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUSTODIAN_TSAN=ON > /dev/null
failed=0
for p in "${programs[@]}"; do
  targets=("$p")
  # These start the command line as processes of their own.
  [[ $p == cluster_tests || $p == tools_tests ]] && targets+=(custodian)
  cmake --build "$build" -j2 --target "${targets[@]}"
  log=$build/$p.tsan.log
  echo "tsan.sh: running $p (log: $log)"
  if ! TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$PWD/tests/tsan.supp" \
      "$build/tests/$p" > "$log" 2>&1; then
    echo "tsan.sh: $p failed or ThreadSanitizer reported:" >&2
    grep -E "^(SUMMARY|WARNING): ThreadSanitizer|test cases|FAILED" "$log" | sort | uniq -c >&2 || true
    failed=1
  else
    tail -n 2 "$log"
  fi
done
exit "$failed"
