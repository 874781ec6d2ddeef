#!/usr/bin/env bash
# Installs what is missing (Debian 12), builds everything, runs every test with ctest.
#   scripts/test.sh                 all tests
#   scripts/test.sh -L unit         only the unit tests (ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
# CI builds treat warnings as errors; a local build keeps going.
if [ "${CI:-}" = "true" ]; then RESCIND_CMAKE_ARGS="-DRESCIND_WERROR=ON ${RESCIND_CMAKE_ARGS:-}"; fi
export RESCIND_CMAKE_ARGS
start=$(date +%s)
build_targets
echo "==> built in $(( $(date +%s) - start ))s"
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc 2>/dev/null || echo 2)" "$@"
