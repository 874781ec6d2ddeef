#!/usr/bin/env bash
# Rescind's benchmark (shared/bench.md): W1, W2, noop, scale, quota and the micro-benchmarks, each
# side by side with its peer (BullMQ) or ceiling (queue_ceiling) in the same run.
#
#   bench/run.sh [w1|w2|noop|scale|quota|micro|all] [--jobs N]      (default: all)
#
# Installs what is missing, builds the Release-ish targets in build/, starts a private
# redis-server for Rescind, another for BullMQ (so the two never share keys) and
# rescind-sandbox --ledger-mode counts, all on free loopback ports, and stops them on exit.
# stdout: one JSON line per measurement, then one "ratio" line per scenario.
# stderr: human-readable progress.
#
# Sizes and knobs (environment): BENCH_JOBS (W1, W2, scale; 20000), BENCH_NOOP_JOBS (100000),
# --jobs N sets both. BENCH_W1_MAX_IN_FLIGHT (1000), BENCH_W2_MAX_IN_FLIGHT (5000),
# BENCH_W1_HTTP_CONNS (256, the worker's default), BENCH_W2_HTTP_CONNS (2 × W2 in flight),
# BENCH_W1_PEER_CONCURRENCY (100), BENCH_W2_PEER_CONCURRENCY (1000), BENCH_W2_DELAY_MS (50),
# BENCH_SCALE_PROCS ("1 2 4"), BENCH_SANDBOX_THREADS (1), BENCH_TIMEOUT (600 s per run),
# BENCH_MICRO_ARGS (extra micro_bench flags, e.g. --benchmark_filter=parse),
# BENCH_BUILD_DIR (build), BENCH_NO_BUILD=1 (use the binaries there as they are),
# BENCH_QUOTA_RPS (100), BENCH_QUOTA_JOBS (1000),
# BENCH_KEEP=1 (keep the logs and metrics in /tmp/rescind-bench-*).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
# fd 3 is the real stdout, for the JSON lines only; everything else goes to stderr.
exec 3>&1 1>&2

usage() {
  echo "usage: bench/run.sh [w1|w2|noop|scale|quota|micro|all] [--jobs N]" >&2
  exit 2
}

scenario=all jobs_flag=
while [ $# -gt 0 ]; do
  case "$1" in
    w1|w2|noop|scale|quota|micro|all) scenario=$1; shift ;;
    --jobs) [ $# -ge 2 ] || usage; jobs_flag=$2; shift 2 ;;
    --jobs=*) jobs_flag=${1#--jobs=}; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[ -z "$jobs_flag" ] || [[ "$jobs_flag" =~ ^[1-9][0-9]*$ ]] || usage

W_JOBS=${jobs_flag:-${BENCH_JOBS:-20000}}
NOOP_JOBS=${jobs_flag:-${BENCH_NOOP_JOBS:-100000}}
W1_MAX_IN_FLIGHT=${BENCH_W1_MAX_IN_FLIGHT:-1000}
W2_MAX_IN_FLIGHT=${BENCH_W2_MAX_IN_FLIGHT:-5000}
W1_HTTP_CONNS=${BENCH_W1_HTTP_CONNS:-256}
W2_HTTP_CONNS=${BENCH_W2_HTTP_CONNS:-$(( 2 * W2_MAX_IN_FLIGHT ))}
W1_PEER_CONCURRENCY=${BENCH_W1_PEER_CONCURRENCY:-100}
W2_PEER_CONCURRENCY=${BENCH_W2_PEER_CONCURRENCY:-1000}
W2_DELAY_MS=${BENCH_W2_DELAY_MS:-50}
SCALE_PROCS=${BENCH_SCALE_PROCS:-"1 2 4"}
SANDBOX_THREADS=${BENCH_SANDBOX_THREADS:-1}
RUN_TIMEOUT=${BENCH_TIMEOUT:-600}
for v in W_JOBS NOOP_JOBS W1_MAX_IN_FLIGHT W2_MAX_IN_FLIGHT W1_HTTP_CONNS W2_HTTP_CONNS \
         W1_PEER_CONCURRENCY W2_PEER_CONCURRENCY W2_DELAY_MS SANDBOX_THREADS RUN_TIMEOUT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a whole number, not '${!v}'" >&2; exit 2; }
done

case "$scenario" in
  all) scenarios=(micro noop w1 w2 scale quota) ;;
  *) scenarios=("$scenario") ;;
esac
wants() { local s; for s in "${scenarios[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
wants_any() { local s; for s; do wants "$s" && return 0; done; return 1; }

# ---------------------------------------------------------------- processes and cleanup
work=$(mktemp -d /tmp/rescind-bench-XXXXXX)
pids=()
cleanup() {
  local pid deadline
  trap - EXIT INT TERM PIPE
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$(( SECONDS + 10 ))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "==> logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE  # whoever read our stdout went away: still clean up

# ---------------------------------------------------------------- install and build
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" libbenchmark-dev
if wants_any w1 w2 micro; then
  # Debian's npm conflicts with NodeSource's nodejs (which bundles npm): install the Debian
  # packages only where the commands are missing.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then install_missing nodejs npm; fi
fi

targets=()
wants_any w1 w2 noop scale quota && targets+=(rescind-worker rescind-sandbox rescindctl)
wants noop && targets+=(queue_ceiling)
wants micro && targets+=(micro_bench)
bdir=${BENCH_BUILD_DIR:-build}
if [ -n "${BENCH_NO_BUILD:-}" ]; then
  echo "==> BENCH_NO_BUILD: using the binaries already in $bdir/ as they are"
elif [ ${#targets[@]} -gt 0 ]; then
  if [ ! -f "$bdir/build.ninja" ]; then
    # shellcheck disable=SC2086  # RESCIND_CMAKE_ARGS holds several arguments, as in scripts/deps.sh
    cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RESCIND_CMAKE_ARGS:-} >/dev/null
  elif wants micro && ! grep -q 'micro_bench' "$bdir/build.ninja"; then
    # Configured before libbenchmark-dev was installed: look for it again.
    cmake -S . -B "$bdir" >/dev/null
  fi
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$bdir/CMakeCache.txt")
  echo "==> building ${targets[*]} in $bdir/ (${build_type:-RelWithDebInfo, the CMakeLists default})"
  if ! cmake --build "$bdir" -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    echo "==> build failed"
    exit 1
  fi
fi

peer_dir=bench/peers/bullmq
if wants_any w1 w2; then
  if [ ! -f "$peer_dir/node_modules/.package-lock.json" ] ||
     [ "$peer_dir/package-lock.json" -nt "$peer_dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci in $peer_dir"
    (cd "$peer_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
  bullmq_version=$(node -p "require('./$peer_dir/node_modules/bullmq/package.json').version")
  echo "==> BullMQ $bullmq_version on Node $(node --version)"
fi

# Many sockets in W2 (worker and sandbox each hold one per connection).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [ "$fd_limit" != unlimited ] && [ "$W2_HTTP_CONNS" -gt $(( fd_limit - 512 )) ]; then
  W2_HTTP_CONNS=$(( fd_limit - 512 ))
  echo "==> open-file limit $fd_limit: W2 HTTP connections capped at $W2_HTTP_CONNS"
fi

# Ports are drawn below the kernel's ephemeral range: a port there can be taken as the
# source port of any outgoing connection (W2 opens thousands) between probe and bind.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
[ "$ephemeral_low" -gt 12000 ] || ephemeral_low=61000
free_port() {  # a loopback port nothing answers on
  local port
  while :; do
    port=$(( 10000 + RANDOM % (ephemeral_low - 10000) ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
wait_for() {  # wait_for SECONDS COMMAND…: until the command succeeds
  local deadline=$(( SECONDS + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
alive() {  # the process runs (and is not a zombie)
  local state
  [ -r "/proc/$1/stat" ] || return 1
  state=$(</proc/"$1"/stat) 2>/dev/null || return 1
  state=${state##*) }
  [ "${state:0:1}" != Z ]
}
stop_pid() {  # SIGTERM, wait up to 15 s, then SIGKILL
  local pid=$1 deadline=$(( SECONDS + 15 ))
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=() p
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  pids=("${kept[@]}")  # never signalled again: its number may be reused
}

clk_tck=$(getconf CLK_TCK)
cpu_s() {  # utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)
  local stat fields
  stat=$(</proc/"$1"/stat)
  read -ra fields <<<"${stat##*) }"  # fields[0] is field 3 (state)
  awk -v t="$(( fields[11] + fields[12] ))" -v hz="$clk_tck" 'BEGIN { printf "%.3f", t / hz }'
}
hwm_mb() {  # peak resident set size (VmHWM) in MB
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}
calc() {  # calc FORMAT EXPRESSION: awk arithmetic on numbers this script produced
  awk "BEGIN { printf \"$1\", $2 }"
}
emit() { printf '%s\n' "$1" >&3; }
json_number() {  # json_number TEXT KEY: the first "KEY":number in TEXT, or nothing
  local m
  m=$(grep -o "\"$2\":[0-9.]*" <<<"$1" || true)
  m=${m%%$'\n'*}
  printf '%s' "${m#*:}"
}

failures=0
report_failure() {  # report_failure SCENARIO SYSTEM JOBS WHY
  local why=${4//\"/\'}
  why=${why//\\//}
  why=${why//$'\t'/ }
  emit "{\"scenario\":\"$1\",\"system\":\"$2\",\"jobs\":$3,\"failed\":\"${why//$'\n'/ }\"}"
  echo "!!! $1 $2: $4"
  failures=$(( failures + 1 ))
}

start_redis() {  # start_redis VAR: a private redis-server without persistence; VAR=port, VAR_pid
  local port pid _
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      >"$work/redis-$port.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if wait_for 10 redis-cli -p "$port" ping; then
      printf -v "$1" '%s' "$port"
      printf -v "$1_pid" '%s' "$pid"
      return 0
    fi
    stop_pid "$pid"  # most likely the port was taken meanwhile: another one
  done
  echo "redis-server did not start:"; cat "$work/redis-$port.log"; exit 1
}

rport='' rport_pid='' bport_pid='' sandbox_pid='' sandbox_url=''
if wants_any w1 w2 noop scale quota; then
  start_redis rport
  rurl="redis://127.0.0.1:$rport"
  "$bdir/sandbox/rescind-sandbox" --listen 127.0.0.1:0 --ledger-mode counts --threads "$SANDBOX_THREADS" \
    --log-level warn >"$work/sandbox.out" 2>"$work/sandbox.log" &
  sandbox_pid=$!
  pids+=("$sandbox_pid")
  wait_for 10 grep -q 'listening on' "$work/sandbox.out" || { echo "sandbox did not start:"; cat "$work/sandbox.log"; exit 1; }
  sandbox_url="http://$(sed -n 's/^listening on //p' "$work/sandbox.out")"
  bport='' burl=''
  if wants_any w1 w2; then
    start_redis bport
    burl="redis://127.0.0.1:$bport"
  fi
  echo "==> redis-server for Rescind on $rurl${burl:+, for BullMQ on $burl}; sandbox on $sandbox_url ($SANDBOX_THREADS thread(s), ledger counts)"
fi
echo "==> machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- jobs
jobs_file() {  # jobs_file KIND N: path of a generated NDJSON file (cached per run)
  local kind=$1 n=$2 file="$work/jobs-$1-$2.ndjson"
  if [ ! -f "$file" ]; then
    case "$kind" in
      # bench.md's job does three POSTs (refund, email, staff): both systems get exactly those.
      w) scripts/gen-jobs.sh "$n" |
           sed 's/"notify":\["email","sms","staff"\]/"notify":["email","staff"]/' >"$file" ;;
      noop) scripts/gen-jobs.sh --noop "$n" >"$file" ;;
      quota) scripts/gen-jobs.sh "$n" | sed 's/"notify":\["email","sms","staff"\]/"notify":[]/' >"$file" ;;
    esac
    local lines sms
    lines=$(wc -l <"$file")
    sms=$(grep -c '"sms"' "$file" || true)
    if [ "$lines" -ne "$n" ] || [ "$sms" -ne 0 ]; then echo "job generation went wrong ($lines lines, $sms with sms)"; exit 1; fi
  fi
  printf '%s' "$file"
}

# ---------------------------------------------------------------- sandbox
sandbox_reset() {  # sandbox_reset [FAULTS_JSON]: empty ledger and idempotency store, set faults
  curl -sf -X POST "$sandbox_url/__reset" >/dev/null
  [ -z "${1:-}" ] || curl -sf -X POST -H 'content-type: application/json' --data "$1" "$sandbox_url/__faults" >/dev/null
}
ledger=
ledger_check() {  # ledger_check EXPECT_REFUND EXPECT_EMAIL EXPECT_SMS EXPECT_STAFF: sets ledger, fails on mismatch
  local summary refund email sms staff requests effects
  summary=$(curl -sf "$sandbox_url/__ledger/summary") || { ledger_error="cannot read the ledger"; return 1; }
  refund=$(json_number "$summary" refund) email=$(json_number "$summary" email)
  sms=$(json_number "$summary" sms) staff=$(json_number "$summary" staff)
  requests=$(json_number "$summary" requests) effects=$(json_number "$summary" effects)
  ledger="{\"refund\":${refund:-0},\"email\":${email:-0},\"sms\":${sms:-0},\"staff\":${staff:-0},\"effects\":${effects:-0},\"requests\":${requests:-0}}"
  # Every effect must be one of those expected: a plan that grew a step shows up here.
  if [ "${refund:-0}" != "$1" ] || [ "${email:-0}" != "$2" ] || [ "${sms:-0}" != "$3" ] || [ "${staff:-0}" != "$4" ] ||
     [ "${effects:-0}" != $(( $1 + $2 + $3 + $4 )) ]; then
    ledger_error="ledger mismatch: expected refund=$1 email=$2 sms=$3 staff=$4 and nothing else, sandbox says $summary"
    return 1
  fi
}

# ---------------------------------------------------------------- Rescind
g_read=0 g_pending=0 g_lag=
group_state() {  # XINFO GROUPS of rescind:jobs → g_read, g_pending, g_lag (group "rescind")
  local out lines i
  g_read=0 g_pending=0 g_lag=
  out=$(redis-cli -p "$rport" XINFO GROUPS rescind:jobs 2>/dev/null) || return 0
  mapfile -t lines <<<"$out"
  for (( i = 0; i + 1 < ${#lines[@]}; i++ )); do
    case "${lines[i]}" in
      entries-read) g_read=${lines[i+1]:-0} ;;
      pending) g_pending=${lines[i+1]:-0} ;;
      lag) g_lag=${lines[i+1]} ;;
    esac
  done
  [[ "$g_read" =~ ^[0-9]+$ ]] || g_read=0
}

# Prometheus's histogram_quantile over every worker's rescind_job_duration_seconds buckets
# (summed by le, as sum by (le) would): linear interpolation inside the bucket holding the
# rank; the first bucket starts at 0; a rank in +Inf answers the highest finite bound.
histogram_ms() {  # histogram_ms Q METRICS_FILES… → "estimate_ms bucket_low_ms bucket_high_ms"
  local q=$1; shift
  awk -v q="$q" '
    /^rescind_job_duration_seconds_bucket\{/ {
      if (!match($0, /le="[^"]*"/)) next
      le = substr($0, RSTART + 4, RLENGTH - 5)
      sum[le] += $NF
    }
    END {
      n = 0
      for (le in sum) { bounds[++n] = (le == "+Inf") ? 1e300 : le + 0; counts[bounds[n]] = sum[le] }
      if (n == 0) { print "null null null"; exit }
      # insertion sort of the bounds
      for (i = 2; i <= n; i++) { v = bounds[i]; j = i - 1; while (j > 0 && bounds[j] > v) { bounds[j+1] = bounds[j]; j-- } bounds[j+1] = v }
      total = counts[bounds[n]]
      if (total == 0) { print "null null null"; exit }
      rank = q * total
      for (i = 1; i <= n; i++) if (counts[bounds[i]] >= rank) break
      if (bounds[i] == 1e300) { printf "%.1f %g null\n", bounds[n-1] * 1000, bounds[n-1] * 1000; exit }
      lo = (i == 1) ? 0 : bounds[i-1]; below = (i == 1) ? 0 : counts[bounds[i-1]]
      inb = counts[bounds[i]] - below
      v = (inb > 0) ? lo + (bounds[i] - lo) * (rank - below) / inb : bounds[i]
      printf "%.1f %g %g\n", v * 1000, lo * 1000, bounds[i] * 1000
    }' "$@"
}

# run_rescind SCENARIO JOBS_FILE N PROCESSES MAX_IN_FLIGHT HTTP_CONNS FAULTS_JSON EXPECT(r e s t)
# Emits one JSON line; sets r_jobs_per_s, r_cpu_per_job, r_rss ("" on failure).
# A worker that could not bind its metrics port (taken between probe and bind) is a reason
# to run again on other ports, not a failed measurement: up to 3 times.
run_rescind() {
  local _
  for _ in 1 2 3; do
    retry_ports=
    run_rescind_once "$@"
    [ -n "$retry_ports" ] || return 0
    echo "    a metrics port was taken meanwhile; running again on other ports"
  done
  report_failure "$1" rescind "$3" "no free metrics port in 3 attempts"
}
run_rescind_once() {
  local scen=$1 file=$2 n=$3 procs=$4 inflight=$5 conns=$6 faults=$7
  local -a expect
  read -ra expect <<<"$8"
  local i t0 t1 e0 e1 sb0 sb1 rd0 rd1 last_progress deadline why=''
  local -a wpids=() mports=()
  r_jobs_per_s='' r_cpu_per_job='' r_rss=''
  rm -f "$work"/metrics-*.txt
  redis-cli -p "$rport" FLUSHALL >/dev/null
  sandbox_reset "$faults"
  e0=${EPOCHREALTIME/./}
  "$bdir/ctl/rescindctl" --redis "$rurl" enqueue "$file" >"$work/enqueue.log" 2>&1 ||
    { cat "$work/enqueue.log"; report_failure "$scen" rescind "$n" "rescindctl enqueue failed"; return 0; }
  e1=${EPOCHREALTIME/./}
  echo "--> $scen rescind: $n jobs enqueued in $(calc %.2f "($e1 - $e0) / 1e6") s; $procs worker(s), --max-in-flight $inflight, --http-max-connections $conns"

  sb0=$(cpu_s "$sandbox_pid") rd0=$(cpu_s "$rport_pid")
  t0=${EPOCHREALTIME/./}
  for (( i = 1; i <= procs; i++ )); do
    mports[i]=$(free_port)
    "$bdir/worker/rescind-worker" --redis "$rurl" --sandbox "$sandbox_url" --consumer "bench-$i" \
      --max-in-flight "$inflight" --http-max-connections "$conns" \
      --metrics-listen "127.0.0.1:${mports[i]}" --log-level warn 2>"$work/worker-$i.log" &
    wpids[i]=$!
    pids+=($!)
  done

  deadline=$(( SECONDS + RUN_TIMEOUT )) last_progress=$SECONDS
  while :; do
    group_state
    if [ "$g_read" -ge "$n" ] && [ "$g_pending" = 0 ] && [ "$g_lag" = 0 ]; then break; fi
    for (( i = 1; i <= procs; i++ )); do
      alive "${wpids[i]}" || { why="worker $i exited early: $(tail -3 "$work/worker-$i.log")"; break 2; }
    done
    [ "$SECONDS" -lt "$deadline" ] || { why="not drained within ${RUN_TIMEOUT}s (read $g_read, pending $g_pending, lag $g_lag)"; break; }
    if [ $(( SECONDS - last_progress )) -ge 2 ]; then
      last_progress=$SECONDS
      echo "    acknowledged $(( g_read - g_pending )) / $n"
    fi
    sleep 0.05
  done
  t1=${EPOCHREALTIME/./}

  local cpu=0 rss=0 rss_sum=0 c h
  if [ -z "$why" ]; then
    for (( i = 1; i <= procs; i++ )); do
      c=$(cpu_s "${wpids[i]}") h=$(hwm_mb "${wpids[i]}")
      cpu=$(calc %.3f "$cpu + $c") rss_sum=$(calc %.1f "$rss_sum + $h")
      rss=$(calc %.1f "($h > $rss) ? $h : $rss")
    done
    sb1=$(cpu_s "$sandbox_pid") rd1=$(cpu_s "$rport_pid")
    for (( i = 1; i <= procs; i++ )); do
      curl -sf "http://127.0.0.1:${mports[i]}/metrics" >"$work/metrics-$i.txt" || why="cannot read worker $i's /metrics"
    done
  fi
  for (( i = 1; i <= procs; i++ )); do stop_pid "${wpids[i]}"; done
  if [[ "$why" == *"cannot bind"* ]]; then retry_ports=1; return 0; fi
  if [ -n "$why" ]; then report_failure "$scen" rescind "$n" "$why"; return 0; fi

  local succeeded dlq retry
  succeeded=$(awk '/^rescind_jobs_total\{/ && /outcome="succeeded"/ { s += $NF } END { printf "%d", s }' "$work"/metrics-*.txt)
  dlq=$(redis-cli -p "$rport" XLEN rescind:dlq) retry=$(redis-cli -p "$rport" ZCARD rescind:retry)
  if ! ledger_check "${expect[@]}"; then report_failure "$scen" rescind "$n" "$ledger_error"; return 0; fi
  if [ "$succeeded" != "$n" ] || [ "$dlq" != 0 ] || [ "$retry" != 0 ]; then
    report_failure "$scen" rescind "$n" "succeeded=$succeeded (metric), dlq=$dlq, retry set=$retry; expected $n, 0, 0"
    return 0
  fi

  local secs p50 p99 p50_lo p50_hi p99_lo p99_hi
  secs=$(calc %.4f "($t1 - $t0) / 1e6")
  read -r p50 p50_lo p50_hi < <(histogram_ms 0.5 "$work"/metrics-*.txt)
  read -r p99 p99_lo p99_hi < <(histogram_ms 0.99 "$work"/metrics-*.txt)
  local mean  # exact: the histogram's _sum over its _count
  mean=$(awk '/^rescind_job_duration_seconds_sum\{/ { s += $NF } /^rescind_job_duration_seconds_count\{/ { c += $NF }
              END { if (c > 0) printf "%.1f", s * 1000 / c; else printf "null" }' "$work"/metrics-*.txt)
  r_jobs_per_s=$(calc %.1f "$n / $secs") r_cpu_per_job=$(calc %.2f "$cpu * 1e6 / $n") r_rss=$rss
  local sb rd
  sb=$(calc %.3f "$sb1 - $sb0") rd=$(calc %.3f "$rd1 - $rd0")
  emit "{\"scenario\":\"$scen\",\"system\":\"rescind\",\"jobs\":$n,\"seconds\":$secs,\"jobs_per_s\":$(calc %.0f "$n / $secs"),\"p50_ms\":$p50,\"p99_ms\":$p99,\"mean_ms\":$mean,\"latency_from\":\"histogram\",\"p50_bucket_ms\":[$p50_lo,$p50_hi],\"p99_bucket_ms\":[$p99_lo,$p99_hi],\"latency_bound_ms\":$(calc %.0f "($t1 - $e0) / 1e3"),\"cpu_s\":$cpu,\"cpu_us_per_job\":$r_cpu_per_job,\"peak_rss_mb\":$rss,\"sandbox_cpu_s\":$sb,\"sandbox_cpu_share\":$(calc %.2f "$sb / $secs"),\"redis_cpu_s\":$rd,\"enqueue_s\":$(calc %.3f "($e1 - $e0) / 1e6"),\"processes\":$procs,\"peak_rss_mb_sum\":$rss_sum,\"max_in_flight\":$inflight,\"http_max_connections\":$conns,\"ledger\":$ledger}"
  if [ -n "${BENCH_KEEP:-}" ]; then
    for (( i = 1; i <= procs; i++ )); do mv "$work/metrics-$i.txt" "$work/$scen-p$procs-worker$i.metrics"; done
  fi
  rm -f "$work"/metrics-*.txt
}

# ---------------------------------------------------------------- BullMQ
# run_bullmq SCENARIO JOBS_FILE N CONCURRENCY FAULTS_JSON EXPECT(r e s t)
# Emits one JSON line; sets b_jobs_per_s, b_cpu_per_job, b_rss ("" on failure).
run_bullmq() {
  local scen=$1 file=$2 n=$3 conc=$4 faults=$5
  local -a expect
  read -ra expect <<<"$6"
  local t0 t1 sb0 sb1 rd0 rd1 pid deadline last_progress why='' enq out done_ failed_ lines
  b_jobs_per_s='' b_cpu_per_job='' b_rss=''
  redis-cli -p "$bport" FLUSHALL >/dev/null
  sandbox_reset "$faults"
  enq=$(node "$peer_dir/enqueue.js" --redis "$burl" --queue bench --file "$file") ||
    { report_failure "$scen" bullmq "$n" "enqueue.js failed"; return 0; }
  enq=$(json_number "$enq" seconds)
  echo "--> $scen bullmq: $n jobs enqueued (Queue.addBulk) in ${enq:-?} s; Worker concurrency $conc"

  sb0=$(cpu_s "$sandbox_pid") rd0=$(cpu_s "$bport_pid")
  t0=${EPOCHREALTIME/./}
  node "$peer_dir/worker.js" --redis "$burl" --queue bench --sandbox "$sandbox_url" \
    --concurrency "$conc" --expect "$n" >"$work/bullmq.out" 2>"$work/bullmq.err" &
  pid=$!
  pids+=($!)
  deadline=$(( SECONDS + RUN_TIMEOUT )) last_progress=$SECONDS
  while :; do
    out=$(printf 'ZCARD bull:bench:completed\nZCARD bull:bench:failed\n' | redis-cli -p "$bport" 2>/dev/null) || out=
    mapfile -t lines <<<"$out"
    done_=${lines[0]:-0} failed_=${lines[1]:-0}
    [[ "$done_" =~ ^[0-9]+$ ]] || done_=0
    [[ "$failed_" =~ ^[0-9]+$ ]] || failed_=0
    [ $(( done_ + failed_ )) -ge "$n" ] && break
    alive "$pid" || { why="worker.js exited early: $(tail -3 "$work/bullmq.err")"; break; }
    [ "$SECONDS" -lt "$deadline" ] || { why="not finished within ${RUN_TIMEOUT}s (completed $done_, failed $failed_)"; break; }
    if [ $(( SECONDS - last_progress )) -ge 2 ]; then
      last_progress=$SECONDS
      echo "    completed $done_ / $n"
    fi
    sleep 0.05
  done
  t1=${EPOCHREALTIME/./}

  local cpu rss result
  if [ -z "$why" ]; then
    cpu=$(cpu_s "$pid") rss=$(hwm_mb "$pid")
    sb1=$(cpu_s "$sandbox_pid") rd1=$(cpu_s "$bport_pid")
    # worker.js prints its latency figures once it has seen every job finish.
    wait_for 15 grep -q '"completed"' "$work/bullmq.out" || why="worker.js printed no result: $(tail -3 "$work/bullmq.err")"
  fi
  stop_pid "$pid"
  if [ -n "$why" ]; then report_failure "$scen" bullmq "$n" "$why"; return 0; fi
  result=$(grep -m1 '"completed"' "$work/bullmq.out")
  if [ "$failed_" != 0 ]; then report_failure "$scen" bullmq "$n" "$failed_ jobs failed: $(head -c 300 "$work/bullmq.err")"; return 0; fi
  if ! ledger_check "${expect[@]}"; then report_failure "$scen" bullmq "$n" "$ledger_error"; return 0; fi

  field() { local m; m=$(json_number "$result" "$1"); echo "${m:-null}"; }
  local secs sb rd
  secs=$(calc %.4f "($t1 - $t0) / 1e6")
  b_jobs_per_s=$(calc %.1f "$n / $secs") b_cpu_per_job=$(calc %.2f "$cpu * 1e6 / $n") b_rss=$rss
  sb=$(calc %.3f "$sb1 - $sb0") rd=$(calc %.3f "$rd1 - $rd0")
  emit "{\"scenario\":\"$scen\",\"system\":\"bullmq\",\"jobs\":$n,\"seconds\":$secs,\"jobs_per_s\":$(calc %.0f "$n / $secs"),\"p50_ms\":$(field p50_ms),\"p99_ms\":$(field p99_ms),\"mean_ms\":$(field mean_ms),\"latency_from\":\"exact\",\"cpu_s\":$cpu,\"cpu_us_per_job\":$b_cpu_per_job,\"peak_rss_mb\":$rss,\"sandbox_cpu_s\":$sb,\"sandbox_cpu_share\":$(calc %.2f "$sb / $secs"),\"redis_cpu_s\":$rd,\"enqueue_s\":${enq:-null},\"p50_ms_since_start\":$(field p50_ms_since_start),\"p99_ms_since_start\":$(field p99_ms_since_start),\"concurrency\":$conc,\"version\":\"$bullmq_version\",\"ledger\":$ledger}"
}

# ---------------------------------------------------------------- ceiling
# run_ceiling SCENARIO JOBS_FILE N: the same entries, enqueued the same way, into a fresh
# stream (prefix "ceiling") read by queue_ceiling in its own group. Sets c_jobs_per_s.
run_ceiling() {
  local scen=$1 file=$2 n=$3 rd0 rd1 out
  c_jobs_per_s=
  redis-cli -p "$rport" FLUSHALL >/dev/null
  "$bdir/ctl/rescindctl" --redis "$rurl" --prefix ceiling enqueue "$file" >"$work/enqueue.log" 2>&1 ||
    { cat "$work/enqueue.log"; report_failure "$scen" ceiling "$n" "rescindctl enqueue failed"; return 0; }
  echo "--> $scen ceiling: $n entries in ceiling:jobs; XREADGROUP COUNT 100 + pipelined XACK"
  rd0=$(cpu_s "$rport_pid")
  out=$(timeout "$RUN_TIMEOUT" "$bdir/bench/queue_ceiling" --port "$rport" --stream ceiling:jobs --group g \
        --consumer c --count 100 --expect "$n" 2>"$work/ceiling.err") ||
    { report_failure "$scen" ceiling "$n" "queue_ceiling failed: $(cat "$work/ceiling.err")"; return 0; }
  rd1=$(cpu_s "$rport_pid")
  c_jobs_per_s=$(json_number "$out" jobs_per_s)
  out=${out%\}}
  emit "{\"scenario\":\"$scen\",${out#\{},\"redis_cpu_s\":$(calc %.3f "$rd1 - $rd0")}"
}

ratio() { [ -n "$1" ] && [ -n "$2" ] && calc %.2f "$1 / $2" || echo null; }

# ---------------------------------------------------------------- scenarios
scenario_w() {  # scenario_w w1|w2
  local scen=$1 n=$W_JOBS file faults inflight conns conc
  file=$(jobs_file w "$n")
  if [ "$scen" = w1 ]; then
    faults='' inflight=$W1_MAX_IN_FLIGHT conns=$W1_HTTP_CONNS conc=$W1_PEER_CONCURRENCY
  else
    faults="{\"stripe\":{\"delay_ms\":$W2_DELAY_MS},\"sendgrid\":{\"delay_ms\":$W2_DELAY_MS},\"slack\":{\"delay_ms\":$W2_DELAY_MS}}"
    inflight=$W2_MAX_IN_FLIGHT conns=$W2_HTTP_CONNS conc=$W2_PEER_CONCURRENCY
  fi
  echo "==> $scen: $n order.canceled jobs (refund, then email + staff alert)${faults:+, every provider call delayed ${W2_DELAY_MS} ms}"
  run_rescind "$scen" "$file" "$n" 1 "$inflight" "$conns" "$faults" "$n $n 0 $n"
  run_bullmq "$scen" "$file" "$n" "$conc" "$faults" "$n $n 0 $n"
  if [ -n "$r_jobs_per_s" ] && [ -n "$b_jobs_per_s" ]; then
    emit "{\"scenario\":\"$scen\",\"ratio\":{\"rescind_over_bullmq_jobs_per_s\":$(ratio "$r_jobs_per_s" "$b_jobs_per_s"),\"bullmq_over_rescind_cpu_per_job\":$(ratio "$b_cpu_per_job" "$r_cpu_per_job"),\"bullmq_over_rescind_peak_rss\":$(ratio "$b_rss" "$r_rss")}}"
  fi
}

scenario_noop() {
  local n=$NOOP_JOBS file
  file=$(jobs_file noop "$n")
  echo "==> noop: $n jobs with no steps, against the raw queue ceiling"
  run_rescind noop "$file" "$n" 1 "$W1_MAX_IN_FLIGHT" "$W1_HTTP_CONNS" "" "0 0 0 0"
  run_ceiling noop "$file" "$n"
  if [ -n "$r_jobs_per_s" ] && [ -n "$c_jobs_per_s" ]; then
    emit "{\"scenario\":\"noop\",\"ratio\":{\"rescind_over_ceiling_jobs_per_s\":$(ratio "$r_jobs_per_s" "$c_jobs_per_s")}}"
  fi
}

scenario_scale() {
  local n=$W_JOBS file k base='' base_k='' parts=()
  file=$(jobs_file w "$n")
  echo "==> scale: W1 with ${SCALE_PROCS// /, } worker processes in one group"
  for k in $SCALE_PROCS; do
    run_rescind scale "$file" "$n" "$k" "$W1_MAX_IN_FLIGHT" "$W1_HTTP_CONNS" "" "$n $n 0 $n"
    [ -n "$r_jobs_per_s" ] || continue
    [ -n "$base" ] || { base=$r_jobs_per_s base_k=$k; continue; }
    parts+=("\"jobs_per_s_${k}_over_${base_k}\":$(ratio "$r_jobs_per_s" "$base")")
  done
  if [ ${#parts[@]} -gt 0 ]; then
    local IFS=,
    emit "{\"scenario\":\"scale\",\"ratio\":{${parts[*]}}}"
  fi
}

# True when every refund is in the ledger and nothing is unread, pending or waiting to be
# retried. The queue is read in one MULTI/EXEC: read one after the other, a job moving
# between the retry set and the stream could be missed by both reads.
all_refunded_and_settled() {
  local summary out
  summary=$(curl -sf "$sandbox_url/__ledger/summary") || return 1
  [ "$(json_number "$summary" refund)" = "$1" ] || return 1
  out=$(printf 'MULTI\nXINFO GROUPS rescind:jobs\nZCARD rescind:retry\nEXEC\n' | redis-cli -p "$rport" 2>/dev/null) || return 1
  awk 'prev == "pending" { pending = $0 } prev == "lag" { lag = $0 } { prev = $0; last = $0 }
       END { exit !(pending == "0" && lag == "0" && last == "0") }' <<<"$out"
}

# quota: refunds only, against a sandbox quota of QUOTA_RPS for Stripe; 1 and 3 workers (20
# jobs in flight each, so all three share the work) with
# the same --limit in fleet scope, and 3 in local scope to show what fleet scope prevents.
scenario_quota() {
  local rps=${BENCH_QUOTA_RPS:-100} n=${BENCH_QUOTA_JOBS:-1000} file run procs scope i t0 t1 secs why
  file=$(jobs_file quota "$n")
  echo "==> quota: $n refunds against a sandbox quota of $rps/s (burst 20), --limit stripe=$rps/s:10"
  for run in "1 fleet" "3 fleet" "3 local"; do
    read -r procs scope <<<"$run"
    local -a wpids=()
    redis-cli -p "$rport" FLUSHALL >/dev/null
    sandbox_reset "{\"stripe\":{\"quota_rps\":$rps,\"burst\":20}}"
    "$bdir/ctl/rescindctl" --redis "$rurl" enqueue "$file" >/dev/null
    t0=${EPOCHREALTIME/./} why=''
    for (( i = 1; i <= procs; i++ )); do
      "$bdir/worker/rescind-worker" --redis "$rurl" --sandbox "$sandbox_url" --consumer "quota-$i" \
        --limit "stripe=$rps/s:10" --limit-scope "$scope" --max-limit-wait 10s --max-in-flight 20 \
        --metrics-listen off \
        --retry base=100ms,cap=1s --log-level error 2>"$work/quota-$i.log" &
      wpids[i]=$!
      pids+=($!)
    done
    local deadline=$(( SECONDS + RUN_TIMEOUT ))
    while :; do
      all_refunded_and_settled "$n" && break
      [ "$SECONDS" -lt "$deadline" ] || { why="not drained within ${RUN_TIMEOUT}s"; break; }
      sleep 0.05
    done
    t1=${EPOCHREALTIME/./}
    for (( i = 1; i <= procs; i++ )); do stop_pid "${wpids[i]}"; done
    if [ -n "$why" ]; then report_failure quota rescind "$n" "$why"; continue; fi
    local summary refunds rejected achieved
    summary=$(curl -sf "$sandbox_url/__ledger/summary")
    refunds=$(json_number "$summary" refund) rejected=$(json_number "$summary" faults_injected)
    secs=$(calc %.3f "($t1 - $t0) / 1e6")
    achieved=$(calc %.1f "${refunds:-0} / $secs")
    emit "{\"scenario\":\"quota\",\"workers\":$procs,\"scope\":\"$scope\",\"refunds\":${refunds:-0},\"seconds\":$secs,\"allowed_per_s\":$rps,\"achieved_per_s\":$achieved,\"utilisation\":$(calc %.2f "$achieved / $rps"),\"answers_429\":${rejected:-0},\"dlq\":$(redis-cli -p "$rport" XLEN rescind:dlq)}"
  done
}

scenario_micro() {
  echo "==> micro: $bdir/bench/micro_bench (Google Benchmark)"
  [ -x "$bdir/bench/micro_bench" ] || { report_failure micro micro_bench 0 "$bdir/bench/micro_bench was not built (libbenchmark-dev missing at configure time?)"; return 0; }
  # shellcheck disable=SC2086
  "$bdir/bench/micro_bench" --benchmark_format=json ${BENCH_MICRO_ARGS:-} >"$work/micro.json" ||
    { report_failure micro micro_bench 0 "micro_bench failed"; return 0; }
  # shellcheck disable=SC2016  # JavaScript, not shell
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };
    for (const b of r.benchmarks) {
      if (b.run_type && b.run_type !== "iteration") continue;
      const k = scale[b.time_unit] ?? 1;
      const out = { scenario: "micro", benchmark: b.name, real_ns: +(b.real_time * k).toFixed(1),
                    cpu_ns: +(b.cpu_time * k).toFixed(1), iterations: b.iterations };
      for (const [key, v] of Object.entries(b)) if (!(key in out) && typeof v === "number" &&
          !["real_time","cpu_time","family_index","per_family_instance_index","repetitions","repetition_index","threads"].includes(key)) out[key] = Math.round(v);
      console.log(JSON.stringify(out));
    }
    console.error(`    ${r.context.host_name}: ${r.context.num_cpus} cpus @ ${r.context.mhz_per_cpu} MHz, library ${r.context.library_build_type}`);
  ' "$work/micro.json" >&3
}

for s in "${scenarios[@]}"; do
  case "$s" in
    w1|w2) scenario_w "$s" ;;
    noop) scenario_noop ;;
    scale) scenario_scale ;;
    micro) scenario_micro ;;
    quota) scenario_quota ;;
  esac
done

if [ "$failures" -gt 0 ]; then
  echo "==> $failures measurement(s) failed (see the \"failed\" lines)"
  exit 1
fi
echo "==> done"
