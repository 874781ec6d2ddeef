#!/usr/bin/env bash
# Installs what is missing (Debian 12), builds everything, runs every test with ctest, then
# with RESCIND_SANITIZE_PASS=1, runs the unit and integration tests again under
# AddressSanitizer + UBSan.
#   scripts/test.sh                 all tests (unit, integration, chaos short form)
#   scripts/test.sh -L unit         only the unit tests (ctest arguments pass through)
#   RESCIND_SANITIZE_PASS=1         then the sanitizer pass in build-asan (not yet in CI: its
#                                   cost on CI's 2 cores has not been measured)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
# CI builds treat warnings as errors; a local build keeps going.
if [ "${CI:-}" = "true" ]; then RESCIND_CMAKE_ARGS="-DRESCIND_WERROR=ON ${RESCIND_CMAKE_ARGS:-}"; fi
export RESCIND_CMAKE_ARGS
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
build_targets
echo "==> built in $(( $(date +%s) - start ))s"
ctest --test-dir build --output-on-failure --timeout 600 -j "$jobs" "$@"

sanitize=${RESCIND_SANITIZE_PASS:-0}
[ "$sanitize" = 1 ] || exit 0

# The same tests with ASan+UBSan in their own folder. -O1 and line tables only (-g1): the
# build is what costs here, and the reports still name file and line. Every process the
# tests start (worker, sandbox, rescindctl) inherits the options and writes any report to a
# file under reports/; one file is a failure, whatever the test itself concluded, since a
# child's report does not always change what the test sees.
start=$(date +%s)
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DRESCIND_SANITIZE=ON ${RESCIND_CMAKE_ARGS:-} >/dev/null
fi
cmake --build build-asan -j "$jobs" --target rescind-worker rescind-sandbox rescindctl unit_tests integration_tests
echo "==> sanitizer build in $(( $(date +%s) - start ))s"
reports="$PWD/build-asan/reports"
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
start=$(date +%s)
status=0
ctest --test-dir build-asan --output-on-failure --timeout 900 -j "$jobs" -L 'unit|integration' || status=$?
echo "==> sanitizer tests in $(( $(date +%s) - start ))s"
if compgen -G "$reports/*" >/dev/null; then
  echo "==> sanitizer reports:" >&2
  for report in "$reports"/*; do echo "--- $report" >&2; head -60 "$report" >&2; done
  exit 1
fi
exit "$status"
