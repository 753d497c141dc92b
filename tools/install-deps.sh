#!/usr/bin/env bash
# Installs the Debian 12 packages Custodian builds and tests with. Idempotent:
# when everything is present it changes nothing and needs no network.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  librocksdb-dev libboost1.81-dev libboost-json1.81-dev libcereal-dev
  catch2 libssl-dev libfmt-dev libcli11-dev libjemalloc-dev
  curl ca-certificates  # the demo talks to `custodian serve` with curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
