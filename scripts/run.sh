#!/usr/bin/env bash
# The main job end to end on this machine: installs what is missing, builds, starts a
# private redis-server and the provider sandbox on free loopback ports, starts the worker,
# enqueues a mix of sample jobs of every kind (order.canceled, refund.requested,
# dispute.opened, order.unfulfillable; Stripe, PayPal and Square payments), shows progress
# while they drain, prints a summary from the sandbox's ledger and the worker's metrics,
# and stops everything it started.
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

echo "==> enqueueing $count sample jobs of every kind"
scripts/gen-jobs.sh --mix "$count" > "$work/jobs.ndjson"
grep -o '"kind":"[a-z.]*"' "$work/jobs.ndjson" | sort | uniq -c | sed 's/^/    /'
build/ctl/rescindctl --redis "$redis_url" enqueue "$work/jobs.ndjson"
head -c 300 "$work/jobs.ndjson"; echo " …"

metrics_port=$(free_port)
start_ns=$(date +%s%N)
build/worker/rescind-worker --redis "$redis_url" --sandbox "$sandbox_url" \
  --record-webhook "$sandbox_url/hooks/accounting" --sample-interval 250ms \
  --metrics-listen "127.0.0.1:$metrics_port" 2>"$work/worker.log" &
worker_pid=$!
pids+=("$worker_pid")
echo "==> worker started (pid $worker_pid); metrics at http://127.0.0.1:$metrics_port/metrics" \
  "(also /healthz, /readyz)"

settled() {  # nothing unread, pending or due for retry, read in one MULTI/EXEC so no job slips between
  printf 'MULTI\nXINFO GROUPS rescind:jobs\nZCARD rescind:retry\nEXEC\n' | redis-cli -p "$redis_port" 2>/dev/null |
    awk 'prev == "pending" { pending = $0 } prev == "lag" { lag = $0 } { prev = $0; last = $0 }
         END { exit !(pending == "0" && lag == "0" && last == "0") }'
}
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
  printf "$progress_start"'    acknowledged %6d / %d   in flight %5s   refunds in ledger %6s   succeeded %6s   retried %4s   DLQ %3s' \
    "$done_" "$count" "$(metric rescind_jobs_in_flight)" "${refunds:-0}" "$(metric rescind_jobs_total 'succeeded')" \
    "$(metric rescind_jobs_total 'retried')" "$(metric rescind_dlq_depth)"
  printf "$progress_end"
  [ "$lag" = 0 ] && [ "$pending" = 0 ] && [ "$read_" -ge "$count" ] && settled && break
  kill -0 "$worker_pid" 2>/dev/null || { echo; echo "worker exited early:"; tail -20 "$work/worker.log"; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo; echo "not drained in 300s; last worker log lines:"; tail -5 "$work/worker.log"; exit 1; }
  sleep "$tick"
done
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo

ledger=$(curl -s "$sandbox_url/__ledger")
count_effect() { grep -o "\"provider\":\"$1\",\"action\":\"$2\"" <<<"$ledger" | wc -l; }
echo
echo "==> summary"
printf '    jobs acknowledged      %d of %d in %d.%03d s  (%d jobs/s, includes worker start-up)\n' \
  "$done_" "$count" $(( elapsed_ms / 1000 )) $(( elapsed_ms % 1000 )) $(( done_ * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1) ))
printf '    refunds                %d Stripe, %d PayPal, %d Square, %d by Shopify\n' "$(count_effect stripe refund)" \
  "$(count_effect paypal refund)" "$(count_effect square refund)" "$(count_effect shopify refund)"
printf '    orders canceled        %d at Shopify (%d restocked)\n' "$(count_effect shopify cancel)" "$(count_effect shopify restock)"
printf '    customer emails        %d (SendGrid)\n' "$(count_effect sendgrid email)"
printf '    customer SMS           %d (Twilio)\n' "$(count_effect twilio sms)"
printf '    staff alerts           %d (Slack)\n' "$(count_effect slack staff)"
printf '    support tickets        %d (Zendesk: returns and disputes)\n' "$(count_effect zendesk ticket)"
printf '    back-office records    %d (signed webhooks)\n' "$(count_effect webhook record)"
printf '    dead-letter queue      %s\n' "$(redis-cli -p "$redis_port" xlen rescind:dlq)"
echo "    refunded per currency (minor units, from the ledger):"
grep -o '"amount_minor":[0-9]*,"currency":"[a-zA-Z]*"' <<<"$ledger" |
  awk -F'[:,"]+' '{ sum[toupper($5)] += $3 } END { for (c in sum) printf "      %s %d\n", c, sum[c] }' | sort
echo "    one ledger entry:"
grep -o '{[^{}]*"action":"refund"[^{}]*}' <<<"$ledger" | sed -n '1s/^/      /p'
echo "    one audit entry:"
redis-cli -p "$redis_port" xrange rescind:audit - + COUNT 1 | sed -n '2,$p' | paste -sd' ' |
  awk '{ printf "     "; for (i = 1; i < NF; i += 2) printf " %s=%s", $i, $(i + 1); print "" }'
echo "    one worker log line:"
grep -m1 '"job done"' "$work/worker.log" | sed 's/^/      /'
echo "    metrics:"
curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -E '^rescind_(jobs_total|dlq_depth|stream_lag)' | sed 's/^/      /'

kill -TERM "$worker_pid"; wait "$worker_pid" || true
echo "==> stopped worker, sandbox and redis-server"
