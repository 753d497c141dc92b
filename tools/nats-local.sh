#!/usr/bin/env bash
# Three NATS servers with JetStream, clustered, on loopback: the log of record
# for trying the cluster (docs/scale-out.md), the demo and the benchmark.
#   bash tools/nats-local.sh start DIR [BASE_PORT]   prints the --cluster value
#   bash tools/nats-local.sh stop DIR
# Ports: clients BASE..BASE+2 (default 14222), routes BASE+1000.., monitoring BASE+2000...
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [BASE_PORT]" >&2; exit 2; }
base=${3:-14222}
server=$(command -v nats-server || echo /usr/sbin/nats-server)
case "$cmd" in
start)
  [ -x "$server" ] || { echo "nats-server is not installed (apt-get install nats-server)" >&2; exit 1; }
  mkdir -p "$dir" && chmod 700 "$dir"
  routes=""
  for i in 0 1 2; do routes+="${routes:+, }nats-route://127.0.0.1:$((base + 1000 + i))"; done
  urls=""
  for i in 0 1 2; do
    n="n$((i + 1))"
    mkdir -p "$dir/$n"
    cat > "$dir/$n/nats.conf" <<CONF
server_name: $n
listen: 127.0.0.1:$((base + i))
http: 127.0.0.1:$((base + 2000 + i))
max_payload: 8MB
jetstream { store_dir: "$dir/$n/js" }
cluster {
  name: custodian-local
  listen: 127.0.0.1:$((base + 1000 + i))
  routes: [ $routes ]
}
CONF
    "$server" -c "$dir/$n/nats.conf" > "$dir/$n/nats.log" 2>&1 &
    echo $! > "$dir/$n/pid"
    urls+="${urls:+,}nats://127.0.0.1:$((base + i))"
  done
  # Ready once every server's JetStream has found its meta leader.
  for i in 0 1 2; do
    ok=""
    for _ in $(seq 1 150); do
      curl -sf "http://127.0.0.1:$((base + 2000 + i))/healthz" >/dev/null 2>&1 && { ok=1; break; }
      sleep 0.1
    done
    if [ -z "$ok" ]; then
      echo "nats server n$((i + 1)) did not become ready; its log ($dir/n$((i + 1))/nats.log) ends:" >&2
      tail -5 "$dir/n$((i + 1))/nats.log" >&2
      "$0" stop "$dir"
      exit 1
    fi
  done
  echo "$urls"
  ;;
stop)
  for p in "$dir"/n*/pid; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    rm -f "$p"
  done
  ;;
*) echo "usage: $0 start|stop DIR [BASE_PORT]" >&2; exit 2 ;;
esac
