#!/usr/bin/env bash
# The main job end to end on this machine: installs what is missing, builds, starts a
# private redis-server and the provider sandbox on free loopback ports, starts the worker,
# enqueues sample cancellations, shows progress while they drain, prints a summary from the
# sandbox's ledger, and stops everything it started.
#   scripts/run.sh            2,000 sample jobs
#   scripts/run.sh 20000      as many as you like
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

count=${1:-2000}
[[ "$count" =~ ^[0-9]+$ ]] || { echo "usage: $0 [JOB_COUNT]" >&2; exit 2; }

install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
echo "==> building"
build_targets rescind-worker rescind-sandbox rescindctl >/dev/null

work=$(mktemp -d /tmp/rescind-run-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {  # a loopback port nothing answers on
  local port
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
wait_for() {  # wait_for SECONDS COMMAND…: until the command succeeds
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for 10 redis-cli -p "$redis_port" ping || { echo "redis-server did not start:"; cat "$work/redis.log"; exit 1; }
redis_url="redis://127.0.0.1:$redis_port"

build/sandbox/rescind-sandbox --listen 127.0.0.1:0 >"$work/sandbox.out" 2>"$work/sandbox.log" &
pids+=($!)
wait_for 10 grep -q 'listening on' "$work/sandbox.out" || { echo "sandbox did not start:"; cat "$work/sandbox.log"; exit 1; }
sandbox_url="http://$(sed -n 's/^listening on //p' "$work/sandbox.out")"
echo "==> redis-server on $redis_url, sandbox providers on $sandbox_url"

echo "==> enqueueing $count sample cancellations"
scripts/gen-jobs.sh "$count" > "$work/jobs.ndjson"
build/ctl/rescindctl --redis "$redis_url" enqueue "$work/jobs.ndjson"
head -c 300 "$work/jobs.ndjson"; echo " …"

metrics_port=$(free_port)
start_ns=$(date +%s%N)
build/worker/rescind-worker --redis "$redis_url" --sandbox "$sandbox_url" \
  --metrics-listen "127.0.0.1:$metrics_port" 2>"$work/worker.log" &
worker_pid=$!
pids+=("$worker_pid")
echo "==> worker started (pid $worker_pid); metrics at http://127.0.0.1:$metrics_port/metrics"

group_field() {  # XINFO GROUPS value of one field for group "rescind"
  redis-cli -p "$redis_port" xinfo groups rescind:jobs 2>/dev/null | awk -v f="$1" 'prev == f { print; exit } { prev = $0 }'
}
metric() {  # sum of one metric's samples whose labels contain $2
  curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" -v l="${2:-}" \
    '$1 ~ "^"m && index($1, l) { s += $2 } END { printf "%d", s }'
}

# On a terminal the progress line rewrites itself; in a log it is one line per tick.
if [ -t 1 ]; then progress_start='\r' progress_end='' tick=0.25; else progress_start='' progress_end='\n' tick=1; fi
deadline=$(( $(date +%s) + 300 ))
while :; do
  read_=$(group_field entries-read); pending=$(group_field pending); lag=$(group_field lag)
  read_=${read_:-0}; pending=${pending:-0}; lag=${lag:-$count}
  done_=$(( read_ - pending ))
  refunds=$(curl -s "$sandbox_url/__ledger/summary" | grep -o '"refund":[0-9]*' | cut -d: -f2)
  printf "$progress_start"'    acknowledged %6d / %d   in flight %5d   refunds in ledger %6s   succeeded (metric) %6s' \
    "$done_" "$count" "$pending" "${refunds:-0}" "$(metric rescind_jobs_total 'succeeded')"
  printf "$progress_end"
  [ "$lag" = 0 ] && [ "$pending" = 0 ] && [ "$read_" -ge "$count" ] && break
  kill -0 "$worker_pid" 2>/dev/null || { echo; echo "worker exited early:"; tail -20 "$work/worker.log"; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo; echo "not drained in 300s; last worker log lines:"; tail -5 "$work/worker.log"; exit 1; }
  sleep "$tick"
done
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo

ledger=$(curl -s "$sandbox_url/__ledger")
count_action() { grep -o "\"action\":\"$1\"" <<<"$ledger" | wc -l; }
echo
echo "==> summary"
printf '    jobs acknowledged      %d of %d in %d.%03d s  (%d jobs/s, includes worker start-up)\n' \
  "$done_" "$count" $(( elapsed_ms / 1000 )) $(( elapsed_ms % 1000 )) $(( done_ * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1) ))
printf '    refunds in the ledger  %d (Stripe)\n' "$(count_action refund)"
printf '    customer emails        %d (SendGrid)\n' "$(count_action email)"
printf '    customer SMS           %d (Twilio)\n' "$(count_action sms)"
printf '    staff alerts           %d (Slack)\n' "$(count_action staff)"
echo "    refunded per currency (minor units, from the ledger):"
grep -o '"amount_minor":[0-9]*,"currency":"[a-zA-Z]*"' <<<"$ledger" |
  awk -F'[:,"]+' '{ sum[toupper($5)] += $3 } END { for (c in sum) printf "      %s %d\n", c, sum[c] }' | sort
echo "    one ledger entry:"
grep -o '{[^{}]*"action":"refund"[^{}]*}' <<<"$ledger" | sed -n '1s/^/      /p'
echo "    one worker log line:"
grep -m1 '"job done"' "$work/worker.log" | sed 's/^/      /'
echo "    metrics:"
curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -E '^rescind_(jobs_total|provider_requests_total)' | sed 's/^/      /'

kill -TERM "$worker_pid"; wait "$worker_pid" || true
echo "==> stopped worker, sandbox and redis-server"
