#!/usr/bin/env bash
# Two custodian-bench binaries run the same workload at the same time, PAIRS
# times, and each pair's CPU per event is printed side by side: both see the
# same machine, so a difference of a few percent shows in every pair, where
# runs one after another spread by more (docs/performance.md, "Nineteenth
# session"). For the workloads that report CPU per event (import_batched*,
# append_sync_concurrent*).
#   bash tools/bench-pair.sh OLD_BINARY NEW_BINARY [WORKLOAD] [PAIRS] [SIDE]
# e.g. cp build/tools/custodian-bench /tmp/old; (change, rebuild);
#      bash tools/bench-pair.sh /tmp/old build/tools/custodian-bench import_batched_personal 3
set -euo pipefail
old=${1:-}; new=${2:-}
[ -x "$old" ] && [ -x "$new" ] || { echo "usage: $0 OLD_BINARY NEW_BINARY [WORKLOAD] [PAIRS] [custodian|peer]" >&2; exit 2; }
workload=${3:-import_batched_personal}; pairs=${4:-3}; side=${5:-custodian}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cpu() { grep "^| $workload |" "$1" | grep -o '[0-9.]* us of CPU per event' | head -1 | cut -d' ' -f1; }
echo "pair  old (us of CPU per event)  new"
for i in $(seq "$pairs"); do
  mkdir -p "$scratch/old" "$scratch/new"
  "$old" --workloads "$workload" --repeats 1 --sides "$side" --dir "$scratch/old" > "$scratch/old.out" 2>&1 &
  a=$!
  "$new" --workloads "$workload" --repeats 1 --sides "$side" --dir "$scratch/new" > "$scratch/new.out" 2>&1 &
  b=$!
  wait "$a" "$b"
  printf '%-5s %-26s %s\n' "$i" "$(cpu "$scratch/old.out")" "$(cpu "$scratch/new.out")"
done
