#!/usr/bin/env bash
# Installs what is missing, builds in Release, and shows Custodian at work:
# a generated company (`custodian demo`, about a million events) in a fresh
# ./custodian-demo and a few queries of its tour; then, on a small store in
# ./custodian-demo-evidence: import, reads, a live tail, durability checks,
# tamper evidence, and a short benchmark against a raw-RocksDB peer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh

bin=build/tools/custodian
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

company="$PWD/custodian-demo"
rm -rf "$company" "$company.keys"
step "$bin --data $company demo"
$bin --data "$company" demo | tee /tmp/custodian-demo-tour.txt
handed_over=$(grep -o 'customer custody customer-[0-9]*' /tmp/custodian-demo-tour.txt | head -1 | cut -d' ' -f3)
leaver=$(grep -o 'read access-staff-[0-9]*' /tmp/custodian-demo-tour.txt | head -1 | cut -d' ' -f2)
reader=$(grep -o -- '--as staff-[0-9]*' /tmp/custodian-demo-tour.txt | head -1 | cut -d' ' -f2)
run $bin --data "$company" --as "$reader" customer custody "$handed_over"
run $bin --data "$company" --as "$reader" read "$leaver" --backwards --limit 3
run $bin --data "$company" read "${leaver#access-}"
step "the exfiltration rules: the leaver's exports raised alerts, nobody else's did"
$bin --data "$company" --as "$reader" alerts | tail -6
# The history ends yesterday, so "two months ago" is inside it.
two_months_ago=$(date -u -d '60 days ago' +%Y-%m-%dT00:00:00Z)
run $bin --data "$company" --as "$reader" access --customer "$handed_over" --from "$two_months_ago"
run $bin --data "$company" verify
step "a dispute: one folder about $handed_over as of $two_months_ago, checked offline with only the key"
rm -rf "$PWD/custodian-demo-dispute"
run $bin --data "$company" --as "$reader" dispute --customer "$handed_over" --at "$two_months_ago" --out "$PWD/custodian-demo-dispute"
run $bin verify-bundle "$PWD/custodian-demo-dispute/evidence.json" --key "$($bin --data "$company" key show)"

export CUSTODIAN_DATA="$PWD/custodian-demo-evidence"
export CUSTODIAN_AS=staff-3  # who reads: the sample company's sales manager
rm -rf "$CUSTODIAN_DATA" "$CUSTODIAN_DATA.keys"

run $bin init --origin crm.example.com/audit
run $bin import docs/examples/sample-events.jsonl
run $bin stats
run $bin read customer-1001
run $bin read customer-1001 --backwards --limit 2 --json

step "a live tail in the background, then an append from another process"
$bin tail --count 1 --json > /tmp/custodian-demo-tail.txt &
tail_pid=$!
sleep 1
run $bin append '{"id":"0b7e3c52-61f4-4c3a-9a0e-5d7c1e2f9a10","stream":"customer-1001","type":"interaction.logged","actor":"staff-7","occurred_at":"2026-03-04T09:30:00Z","source":"crm","data":{"channel":"call","direction":"inbound","summary":"asked about the delayed delivery"}}'
wait $tail_pid
echo "the tail saw: $(cat /tmp/custodian-demo-tail.txt)"

step "the same append again is idempotent"
$bin append '{"id":"0b7e3c52-61f4-4c3a-9a0e-5d7c1e2f9a10","stream":"customer-1001","type":"interaction.logged","actor":"staff-7","occurred_at":"2026-03-04T09:30:00Z","source":"crm","data":{"channel":"call","direction":"inbound","summary":"asked about the delayed delivery"}}'

step "a stale expected version is refused (exit 3) and writes nothing"
$bin append --expected-version 2 '{"id":"9d4f2a61-3b7c-4e8d-8f1a-2c6b5e4d3a21","stream":"customer-1001","type":"note.added","actor":"staff-7","occurred_at":"2026-03-04T10:00:00Z","data":{"text":"late note"}}' || echo "exit code $?"

step "the log's rules: staff-12 left the company, so an event by them is refused (exit 2)"
$bin append '{"id":"9d4f2a61-3b7c-4e8d-8f1a-2c6b5e4d3a22","stream":"customer-1001","type":"note.added","actor":"staff-12","occurred_at":"2026-04-04T10:00:00Z","data":{"text":"one more thing"}}' || echo "exit code $?"

step "bad input is refused (exit 2) with the reason"
$bin append '{"id":"not-a-uuid","stream":"Customer 1001","type":"note.added","actor":"staff-12","occurred_at":"2026-03-04T10:00:00Z"}' || echo "exit code $?"

step "tamper evidence: sign a checkpoint an auditor keeps, then verify everything"
$bin checkpoint > /tmp/custodian-demo-kept.note
cat /tmp/custodian-demo-kept.note
$bin append '{"id":"5c1d7e90-8a2b-4f3c-b6d1-0e9f8a7b6c5d","stream":"customer-1002","type":"interaction.logged","actor":"staff-7","occurred_at":"2026-03-05T14:00:00Z","source":"crm","data":{"channel":"meeting","direction":"outbound","summary":"quarterly service review held"}}' > /dev/null
run $bin verify --against /tmp/custodian-demo-kept.note
run $bin prove inclusion --position 3

step "an evidence bundle for a dispute, checked offline with the published key"
run $bin bundle --stream customer-1001 --out /tmp/custodian-demo-bundle.json
vkey=$($bin key show)
run $bin verify-bundle /tmp/custodian-demo-bundle.json --key "$vkey"

step "someone edits the bundle: the altered event is named (exit 5)"
sed 's/renewal reminder sent/no reminder was ever sent/' /tmp/custodian-demo-bundle.json > /tmp/custodian-demo-forged.json
$bin verify-bundle /tmp/custodian-demo-forged.json --key "$vkey" || echo "exit code $?"

run build/tools/custodian-bench --quick

# The HTTP API in front of the generated company. The demo registers an
# administrator and an auditor (principal.registered) and makes tokens for
# them, for the head of sales (manager) and for a CRM (ingest).
step "the HTTP API: custodian serve in front of the company's store, with tokens"
port=${CUSTODIAN_DEMO_PORT:-8080}
api="http://127.0.0.1:$port"
$bin --data "$company" principal add --id 990 --kind other --role admin >/dev/null
$bin --data "$company" principal add --id 991 --kind auditor --organization "Nordpruef Audit" >/dev/null
admin_token=$($bin --data "$company" --as staff-990 token create --role admin --name demo-admin --staff 990 2>/dev/null)
auditor_token=$($bin --data "$company" --as staff-990 token create --role auditor --name year-end-audit --staff 991 2>/dev/null)
manager_token=$($bin --data "$company" --as staff-990 token create --role manager --name head-of-sales --staff "$reader" 2>/dev/null)
ingest_token=$($bin --data "$company" --as staff-990 token create --role ingest --name crm-sync 2>/dev/null)
$bin --data "$company" token list

# Past one machine (docs/scale-out.md): three NATS servers on loopback; a copy
# of the company's store seeds the cluster's stream as its writer, and a new,
# empty node replays it and serves the same log.
step "past one machine: a copy of the company's store becomes the writer of a three-server NATS JetStream cluster; a new node replays it"
cluster_dir="$PWD/custodian-demo-cluster"
bash tools/nats-local.sh stop "$cluster_dir/nats" 2>/dev/null || true
rm -rf "$cluster_dir"
mkdir -p "$cluster_dir"
servers=$(bash tools/nats-local.sh start "$cluster_dir/nats" 14322)
echo "NATS servers: $servers"
writer_pid="" follower_pid=""
# If a step below fails, the nodes and the NATS servers do not outlive the demo.
trap 'kill -TERM $writer_pid $follower_pid 2>/dev/null; bash tools/nats-local.sh stop "$cluster_dir/nats" 2>/dev/null' EXIT
$bin --data "$company" backup --to "$cluster_dir/backup" > /dev/null  # the copy is backup/store
mv "$cluster_dir/backup/store" "$cluster_dir/node-1"
# The key the nodes tag their rounds and requests with: the same file on every node.
$bin keys new-cluster --out "$cluster_dir/cluster.key"
cluster_node() {  # cluster_node NAME PORT [--partition-writer]: one node in the background
  $bin --data "$cluster_dir/$1" --master-key "$company.keys/master.key" serve --listen "127.0.0.1:$2" \
    --cluster "$servers" --cluster-key "$cluster_dir/cluster.key" "${@:3}" > "$cluster_dir/$1.out" 2>&1 &
}
started=$(date +%s)
cluster_node node-1 18381 --partition-writer
writer_pid=$!
for _ in $(seq 1 600); do
  grep -q "of the cluster" "$cluster_dir/node-1.out" 2>/dev/null && break
  kill -0 "$writer_pid" 2>/dev/null || break  # it stopped: its output says why
  sleep 0.2
done
cat "$cluster_dir/node-1.out"
echo "(the writer seeded the stream with the store's $(grep -o '[0-9]* events' "$cluster_dir/node-1.out" | head -1) in $(( $(date +%s) - started )) s)"
started=$(date +%s)
cluster_node node-2 18382
follower_pid=$!
for _ in $(seq 1 600); do
  kill -0 "$follower_pid" 2>/dev/null || break
  [ "$(curl -s http://127.0.0.1:18382/healthz | grep -o '"events":[0-9]*')" = "$(curl -s http://127.0.0.1:18381/healthz | grep -o '"events":[0-9]*')" ] && break
  sleep 0.5
done
cat "$cluster_dir/node-2.out"
echo "(the new node replayed the stream in $(( $(date +%s) - started )) s)"
step "the same log on both nodes: verify on each (the auditor's token works on every node: tokens are in the log)"
for p in 18381 18382; do
  curl -s -H "Authorization: Bearer $auditor_token" "http://127.0.0.1:$p/v1/verify" | grep -o '"ok":[a-z]*,"events":[0-9]*\|"root":"[^"]*"' | tr '\n' ' '
  echo "  (node on port $p)"
done
step "personal data on both nodes: the new node fetched the data keys from the cluster's key share (same key directory), so it opens the contacts the writer sealed"
for p in 18381 18382; do
  # The head of sales, not the auditor: an auditor's role opens no personal data.
  emails=$(curl -s -H "Authorization: Bearer $manager_token" "http://127.0.0.1:$p/v1/customers/customer-1001" | grep -o '"email":"[^"]*"' | head -2 | tr '\n' ' ' || true)
  echo -n "${emails:-NO E-MAIL OPENED }"
  echo "  (node on port $p; $(curl -s "http://127.0.0.1:$p/healthz" | grep -o '"personal_data":"[^"]*"' || echo 'every key opens'))"
done
kill -TERM "$writer_pid" "$follower_pid" 2>/dev/null || true
wait "$writer_pid" "$follower_pid" 2>/dev/null || true
bash tools/nats-local.sh stop "$cluster_dir/nats"
trap - EXIT

$bin --data "$company" serve --listen "127.0.0.1:$port" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "$api/healthz" >/dev/null && break; sleep 0.1; done
call() { step "curl $*"; curl -s "$@"; echo; }
call "$api/healthz"
call -i "$api/v1/silent"                                  # no token: 401
call -H "Authorization: Bearer $ingest_token" "$api/v1/silent"   # ingest may only append: 403
call -H "Authorization: Bearer $manager_token" "$api/v1/customers/$handed_over"
call -H "Authorization: Bearer $manager_token" "$api/v1/customers/$handed_over/custody"
step "a CRM appends a call through the API; the manager reads it back at once (min_position)"
appended=$(curl -s -X POST -H "Authorization: Bearer $ingest_token" -H 'Content-Type: application/json' \
  "$api/v1/streams/$handed_over/events" \
  -d '{"id":"6a8f2d1c-3e4b-4c5d-9e6f-7a8b9c0d1e2f","stream":"'"$handed_over"'","type":"interaction.logged","actor":"'"$reader"'","occurred_at":"2026-11-30T10:00:00Z","source":"crm","data":{"channel":"call","direction":"outbound","summary":"checked in after the handover"}}')
echo "$appended"
position=$(echo "$appended" | grep -o '"positions":\[[0-9]*' | grep -o '[0-9]*$')
call -H "Authorization: Bearer $manager_token" "$api/v1/streams/$handed_over?from=0&limit=2&min_position=$position"
call -H "Authorization: Bearer $auditor_token" "$api/v1/proofs/inclusion?position=$position"
step "the auditor reads the same customer: every person in it sealed (an auditor's role opens no personal data)"
curl -s -H "Authorization: Bearer $auditor_token" "$api/v1/customers/$handed_over" | grep -o '"people":\[{[^]]*' | cut -c1-300; echo
step "every read above was recorded for its reader: the auditor's and the manager's access streams"
$bin --data "$company" --as "$reader" read access-staff-991 --backwards --limit 1
$bin --data "$company" --as "$reader" read "access-$reader" --backwards --limit 1
call -H "Authorization: Bearer $admin_token" "$api/metrics" | grep -E '^custodian_http_requests_total' | head -8

# The web UI, walked in Debian's Chromium with the manager's and the
# auditor's tokens: each page says what it shows and leaves a screenshot.
step "the web UI: each page in Chromium, signed in as the manager and the auditor (screenshots in ./custodian-demo-ui)"
node web/tour.mjs --url "$api" --out "$PWD/custodian-demo-ui" --manager "$manager_token" --auditor "$auditor_token" \
  --customer "$handed_over" --leaver "${leaver#access-}"

cat <<MSG

The generated company is in $company: try the tour printed above.
The small evidence store is in $CUSTODIAN_DATA. Try:
  $bin --data $CUSTODIAN_DATA --as staff-3 read-all      # the read is recorded for staff-3
  $bin --data $CUSTODIAN_DATA stats --stream customer-1002
  $bin --data $CUSTODIAN_DATA --as staff-3 tail          # then append from another terminal
  $bin --data $CUSTODIAN_DATA verify --json
  build/tools/custodian-bench             # the full benchmark (a few minutes)

The HTTP API is serving the generated company at $api (docs/http-api.md) until Ctrl-C.

The web UI: open $api/ in a browser and sign in with a token below (the manager's
for the manager's home page; the auditor's for the audit page; web/README.md).

Tokens (each shown once; only their hashes are kept):
  admin      $admin_token
  auditor    $auditor_token
  manager    $manager_token   ($reader, the head of sales)
  ingest     $ingest_token
Try:
  curl -s -H "Authorization: Bearer $manager_token" $api/v1/customers/$handed_over
  curl -s -H "Authorization: Bearer $manager_token" "$api/v1/silent?days=60" | head -3
  curl -s -N -H "Authorization: Bearer $auditor_token" "$api/v1/subscribe?stream=$handed_over&from=0"   # live, Ctrl-C to leave
  curl -s -H "Authorization: Bearer $auditor_token" $api/v1/verify
  curl -s -H "Authorization: Bearer $auditor_token" $api/v1/bundles/$handed_over > bundle.json
  curl -s -H "Authorization: Bearer $admin_token" $api/metrics | head
MSG
# Ctrl-C stops the server (it gets the signal too) and ends the demo cleanly.
trap 'kill -TERM $server_pid 2>/dev/null || true' INT TERM
wait $server_pid || true
wait $server_pid 2>/dev/null || true
trap - EXIT
echo "The server stopped. The stores stay in $company and $CUSTODIAN_DATA."
