#!/usr/bin/env bash
# Installs what is missing (Debian 12), checks the C++ format (scripts/format.sh), builds everything and runs every test with ctest
# (unit, integration, the chaos suite's short form); then the unit and integration tests
# again under AddressSanitizer + UBSan (build-asan/); then each libFuzzer target for a few
# seconds (build-fuzz/, scripts/fuzz.sh). CI runs all three (figures in the README).
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         only the unit tests, in build/ (ctest arguments pass
#                                   through; then the sanitizer and fuzz passes are skipped)
#   RESCIND_SANITIZE_PASS=0         skip the sanitizer pass
#   RESCIND_FUZZ_SECONDS=0          skip the fuzz pass (default 10 s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
# CI builds treat warnings as errors; a local build keeps going.
if [ "${CI:-}" = "true" ]; then RESCIND_CMAKE_ARGS="-DRESCIND_WERROR=ON ${RESCIND_CMAKE_ARGS:-}"; fi
export RESCIND_CMAKE_ARGS
# Formatting first: it takes seconds and a build takes minutes.
scripts/format.sh --check
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
build_targets
echo "==> built in $(( $(date +%s) - start ))s"
ctest --test-dir build --output-on-failure --timeout 600 -j "$jobs" "$@"

# A narrowed run (ctest arguments) is a developer's quick check: the extra passes are not.
sanitize=${RESCIND_SANITIZE_PASS:-1} fuzz_seconds=${RESCIND_FUZZ_SECONDS:-10}
if [ $# -gt 0 ]; then sanitize=0 fuzz_seconds=0; fi
[[ "$fuzz_seconds" =~ ^[0-9]+$ ]] || { echo "RESCIND_FUZZ_SECONDS must be a number of seconds" >&2; exit 2; }

fuzz_pass() {
  [ "$fuzz_seconds" -gt 0 ] || return 0
  local start
  start=$(date +%s)
  scripts/fuzz.sh "$fuzz_seconds"
  echo "==> fuzz pass in $(( $(date +%s) - start ))s"
}
if [ "$sanitize" != 1 ]; then fuzz_pass; exit 0; fi

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
[ "$status" -eq 0 ] || exit "$status"
unset ASAN_OPTIONS UBSAN_OPTIONS
fuzz_pass
