#!/usr/bin/env bash
# The chaos suite at the reviewer's probe scale (RESCIND_CHAOS=long): ≥ 100 kill -9 over
# 20,000 jobs, 10 Redis restarts (AOF), a 60 s Stripe outage, a 30 s 429 storm. Installs what
# is missing, builds what the suite runs, runs it and prints one report line per scenario.
#   scripts/chaos.sh                        long form, every scenario
#   scripts/chaos.sh --gtest_filter='*Kill*'  one scenario (arguments go to chaos_tests)
#   RESCIND_CHAOS=short scripts/chaos.sh    the CI form (what ctest -L chaos runs)
#   RESCIND_CHAOS_SEED=N                    repeat a run's kill and restart schedule
#   BUILD_DIR=build-chaos                   build folder (default build, like test.sh)
# The report lines are also kept as JSON lines in $RESCIND_CHAOS_REPORT (default:
# $BUILD_DIR/chaos-report.ndjson, appended).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RESCIND_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc 2>/dev/null || echo 2)" --target chaos_tests rescind-worker rescind-sandbox rescindctl

export RESCIND_CHAOS=${RESCIND_CHAOS:-long}
export RESCIND_CHAOS_REPORT=${RESCIND_CHAOS_REPORT:-$PWD/$BUILD_DIR/chaos-report.ndjson}
log=$(mktemp /tmp/rescind-chaos-XXXXXX.log)
echo "==> chaos ($RESCIND_CHAOS form); full output in $log; JSON lines appended to $RESCIND_CHAOS_REPORT"
start=$(date +%s)
# Progress as it comes (scenario lines, failures); everything else goes to the log.
set +e
"$BUILD_DIR/tests/chaos/chaos_tests" "$@" 2>&1 | tee "$log" | grep --line-buffered -E '^(chaos |\[ chaos \]|\[ RUN|\[       OK|\[  FAILED|\[  PASSED|.*Failure$)'
status=${PIPESTATUS[0]}
set -e
echo "==> chaos done in $(( $(date +%s) - start ))s, exit $status"
echo "==> report"
grep '^chaos ' "$log" | sed 's/^/    /' || echo "    (no scenario reported; see $log)"
exit "$status"
