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
# SIDE is custodian (default) or peer; or custodian-vs-peer: the first
# binary's custodian side and the second's peer side at the same time, with
# the ratio peer / custodian (for the *_personal workloads: what sealing costs
# in CPU, both sides on the same machine), e.g.
#      bash tools/bench-pair.sh build/tools/custodian-bench build/tools/custodian-bench \
#        import_batched_personal 3 custodian-vs-peer
set -euo pipefail
old=${1:-}; new=${2:-}
[ -x "$old" ] && [ -x "$new" ] || {
  echo "usage: $0 OLD_BINARY NEW_BINARY [WORKLOAD] [PAIRS] [custodian|peer|custodian-vs-peer]" >&2; exit 2; }
workload=${3:-import_batched_personal}; pairs=${4:-3}; side=${5:-custodian}
old_side=$side; new_side=$side
case "$side" in
  custodian|peer) ;;
  custodian-vs-peer) old_side=custodian; new_side=peer ;;
  *) echo "$0: SIDE is custodian, peer or custodian-vs-peer, not $side" >&2; exit 2 ;;
esac
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cpu() { grep "^| $workload |" "$1" | grep -o '[0-9.]* us of CPU per event' | head -1 | cut -d' ' -f1; }
if [ "$side" = custodian-vs-peer ]; then
  echo "pair  custodian (us of CPU per event)  peer  ratio"
else
  echo "pair  old (us of CPU per event)  new"
fi
for i in $(seq "$pairs"); do
  mkdir -p "$scratch/old" "$scratch/new"
  "$old" --workloads "$workload" --repeats 1 --sides "$old_side" --dir "$scratch/old" > "$scratch/old.out" 2>&1 &
  a=$!
  "$new" --workloads "$workload" --repeats 1 --sides "$new_side" --dir "$scratch/new" > "$scratch/new.out" 2>&1 &
  b=$!
  wait "$a" "$b"
  x=$(cpu "$scratch/old.out"); y=$(cpu "$scratch/new.out")
  if [ "$side" = custodian-vs-peer ]; then
    printf '%-5s %-32s %-5s %s\n' "$i" "$x" "$y" "$(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.2fx", b / a }')"
  else
    printf '%-5s %-26s %s\n' "$i" "$x" "$y"
  fi
done
