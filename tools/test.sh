#!/usr/bin/env bash
# Installs what is missing, builds in Release and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
cd build
ctest --output-on-failure -j2 --timeout 600
