#!/usr/bin/env bash
# What the job id's lease (rescind:run:{id}) costs Redis per job. A run starts with SET NX PX
# pipelined with the HGETALL of its step states (the HGETALL alone before the lease); only a
# lease already taken runs the begin script (measured too, for contrast); the ack script
# gained one line to free the lease. Redis's own INFO commandstats gives the microseconds
# spent inside each call; the client's round trips are the same before and after (one each).
#   bench/lease/run.sh [CALLS]      (default 200000)
# The scripts are read out of queue/scripts.cpp, so what is measured is what runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deps.sh
install_missing redis-server
calls=${1:-200000}

dir=$(mktemp -d)
port=$(( 20000 + RANDOM % 10000 ))
redis-server --port "$port" --save '' --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/pid" >/dev/null
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
cli() { redis-cli -p "$port" "$@"; }
until cli ping >/dev/null 2>&1; do sleep 0.1; done

lua() { sed -n "/$1 = R\"lua(/,/^)lua\"/p" queue/scripts.cpp | sed '1d;$d'; }
begin_sha=$(cli SCRIPT LOAD "$(lua begin_lua)")
# The ack script's added line (GET, then DEL when it names the entry), looped inside one
# script with and without it: the difference is what the line costs an ack that holds a lease.
free_line=$(lua finish_lua | grep 'KEYS\[4\]' | sed 's/^if KEYS\[4\] and /if /; s/ARGV\[3\]/ARGV[2]/')
loop_with=$(cli SCRIPT LOAD "for i = 1, tonumber(ARGV[1]) do redis.call('SET', KEYS[4], ARGV[2]) $free_line end")
loop_without=$(cli SCRIPT LOAD "for i = 1, tonumber(ARGV[1]) do redis.call('SET', KEYS[4], ARGV[2]) end")
# A job's step states as the worker writes them: six steps done.
cli HSET rescind:job:evt_1 refund done:re_3MtwBwLkdIwHu7ix28a3tqPa cancel done:gid://shopify/Order/450789469 \
  email done:sg_1 sms done:SM1 staff done:slack ticket done:35436 >/dev/null

usec() {  # microseconds per call of a command, from INFO commandstats
  cli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:.*usec_per_call=\([0-9.]*\).*/\1/p"
}
measure() {  # name, command…: runs it $calls times on one connection, prints µs per call
  local name=$1 cmd=$2; shift 2
  cli CONFIG RESETSTAT >/dev/null
  redis-benchmark -p "$port" -c 1 -n "$calls" -r 1000000 -q "$cmd" "$@" >/dev/null
  printf '%s %s\n' "$name" "$(usec "$(echo "$cmd" | tr 'A-Z' 'a-z')")"
}
read -r _ hgetall < <(measure hgetall HGETALL rescind:job:evt_1)
# A new lease each call (__rand_int__), as for a job that starts: GET, SET PX, HGETALL.
read -r _ set_nx < <(measure set SET rescind:run:evt___rand_int__ 1700000000000-0 NX PX 30000)
read -r _ begin < <(measure begin EVALSHA "$begin_sha" 2 rescind:run:evt___rand_int__ rescind:job:evt_1 1700000000000-0 30000)
loop() {  # µs per iteration of one looped script
  cli CONFIG RESETSTAT >/dev/null
  cli EVALSHA "$1" 4 a b c rescind:run:evt_1 "$calls" 1700000000000-0 >/dev/null
  cli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_evalsha:.*usec=\([0-9]*\),.*/\1/p" |
    awk -v n="$calls" '{ printf "%.4f", $1 / n }'
}
with=$(loop "$loop_with") without=$(loop "$loop_without")
free=$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a - b }')

awk -v h="$hgetall" -v s="$set_nx" -v b="$begin" -v f="$free" -v n="$calls" 'BEGIN {
  printf "{\"bench\":\"lease\",\"calls\":%d,\"hgetall_us\":%s,\"set_nx_px_us\":%s,\"free_line_us\":%s,\"added_us_per_job\":%.2f,\"begin_script_us\":%s,\"script_path_added_us\":%.2f}\n", n, h, s, f, s + f, b, b - h + f }'
