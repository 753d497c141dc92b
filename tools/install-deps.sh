#!/usr/bin/env bash
# Installs the Debian 12 packages Custodian builds and tests with, and the web
# UI's npm packages (web/package-lock.json). Idempotent: when everything is
# present it changes nothing and needs no network.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libnats-dev nats-server etcd-server  # the cluster: NATS JetStream as the log of record, etcd for the writer lease (docs/scale-out.md)
  librocksdb-dev libboost1.81-dev libboost-json1.81-dev libcereal-dev
  catch2 libssl-dev libfmt-dev libcli11-dev libjemalloc-dev
  curl ca-certificates  # the demo talks to `custodian serve` with curl
  chromium             # the web UI's browser tests (playwright-core drives it; no browser download)
)
# Node.js and npm build the web UI: the machine's own when it has them (Node
# 20 with its npm), else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI's packages, exactly as locked (again only when the lockfile changed).
web="$(dirname "$0")/../web"
if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "installing the web UI's npm packages (npm ci in web/)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
