#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang-14 + ASan + UBSan, in build-fuzz/) and runs each
# for SECONDS (default 600) on a scratch copy of its committed seed corpus; prints per target
# the runs, exec/s, corpus growth and crashes, and exits non-zero if any target crashed,
# leaked, timed out or broke an invariant. Inputs that did are kept in build-fuzz/findings/.
#   scripts/fuzz.sh 15                          # a short pass (CI)
#   FUZZ_TARGETS=job_fuzzer scripts/fuzz.sh 3600
#   build-fuzz/fuzz/job_fuzzer build-fuzz/findings/job_fuzzer/crash-…   # replay one finding
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

seconds=${1:-600}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
read -r -a targets <<< "${FUZZ_TARGETS:-job_fuzzer resp_fuzzer provider_answer_fuzzer config_fuzzer}"

install_missing "${BUILD_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DRESCIND_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
fi
echo "==> building ${targets[*]}"
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/rescind-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# Leaks count as failures; UBSan aborts at its first report (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

failed=0
summary=()
for target in "${targets[@]}"; do
  corpus="$scratch/$target" findings="build-fuzz/findings/$target"
  mkdir -p "$corpus" "$findings"
  cp fuzz/corpus/"$target"/* "$corpus"/
  seeds=$(find "$corpus" -type f | wc -l)
  before=$(find "$findings" -type f | wc -l)
  args=("$corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$findings/")
  [ -f "fuzz/$target.dict" ] && args+=(-dict="fuzz/$target.dict")
  echo "==> $target: ${seconds}s from $seeds seeds"
  rc=0
  "build-fuzz/fuzz/$target" "${args[@]}" >"$scratch/$target.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch/$target.log" | tail -1)
  final=$(find "$corpus" -type f | wc -l)
  crashes=$(( $(find "$findings" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "    FAILED (exit $rc): the report, then the input under $findings/:"
    grep -E -A40 "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|INVARIANT VIOLATED|ALARM" \
      "$scratch/$target.log" | head -60 | sed 's/^/    /'
    [ "$crashes" -gt 0 ] && ls -t "$findings" | head -n "$crashes" | sed "s|^|    $findings/|"
  fi
  summary+=("$(printf '%-24s %12s %10s %8s %8s %8s' "$target" "${runs:-?}" "${rate:-?}" "$seeds" "$final" "$crashes")")
done

echo
printf '%-24s %12s %10s %8s %8s %8s\n' target runs exec/s seeds corpus crashes
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] && echo "no crash, no sanitizer report, no broken invariant in ${seconds}s per target"
exit "$failed"
