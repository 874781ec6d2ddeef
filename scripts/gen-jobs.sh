#!/usr/bin/env bash
# Prints N realistic order.canceled jobs (schema v1) as NDJSON, deterministic per seed.
#   scripts/gen-jobs.sh 1000 > jobs.ndjson
#   scripts/gen-jobs.sh --seed 7 --id-prefix demo 200 | rescindctl enqueue -
# --noop makes jobs with no steps (unpaid, nobody to notify): the queue alone, for benchmarks.
# --mix makes every kind (order.canceled, refund.requested — eligible, shipped, or outside the
# policy window —, dispute.opened, order.unfulfillable) and every payment provider.
set -euo pipefail

usage() {
  echo "usage: $0 [--seed N] [--id-prefix P] [--noop | --mix] COUNT" >&2
  exit 2
}

seed=1 id_prefix=evt noop=0 mix=0 count=
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=${2:?}; shift 2 ;;
    --id-prefix) id_prefix=${2:?}; shift 2 ;;
    --noop) noop=1; shift ;;
    --mix) mix=1; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) count=$1; shift ;;
  esac
done
[[ "$count" =~ ^[0-9]+$ ]] || usage

# Events happen now; "outside the policy window" means an order placed 60 days ago.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
long_ago=$(date -u -d '-60 days' +%Y-%m-%dT%H:%M:%SZ)
due=$(date -u -d '+14 days' +%Y-%m-%dT%H:%M:%SZ)

awk -v n="$count" -v seed="$seed" -v pfx="$id_prefix" -v noop="$noop" -v mix="$mix" \
    -v now="$now" -v long_ago="$long_ago" -v due="$due" 'BEGIN {
  srand(seed)
  split("Ana Ben Chloe Diego Emma Farid Grace Hiro Ines Jonas Kemi Luca Maya Noor Omar Priya", names, " ")
  split("acme-crafts northwind-goods blue-fern-studio kettle-and-co paper-moon-press", shops, " ")
  split("USD USD USD EUR GBP CAD JPY", currencies, " ")
  split("customer customer customer inventory fraud staff", reasons, " ")
  split("RED-500 BLU-250 GRN-100 MUG-12 TEE-M TEE-L CAP-01 BAG-XL", skus, " ")
  for (i = 1; i <= n; i++) {
    name = names[int(rand() * 16) + 1]
    shop = shops[int(rand() * 5) + 1]
    cur = currencies[int(rand() * 7) + 1]
    items = ""; total = 0
    nitems = int(rand() * 2) + 2
    for (k = 1; k <= nitems; k++) {
      q = int(rand() * 3) + 1
      unit = (cur == "JPY") ? (int(rand() * 90) + 10) * 100 : (int(rand() * 9000) + 500)
      total += q * unit
      items = items (k > 1 ? "," : "") sprintf("{\"sku\":\"ACR-%s\",\"quantity\":%d,\"location_id\":\"%d\"}", skus[int(rand() * 8) + 1], q, 655441491 + int(rand() * 3))
    }
    refund = (rand() < 0.2) ? int(total / 2) : total
    order_id = 450789469 + i
    hh = int(rand() * 24); mm = int(rand() * 60); ss = int(rand() * 60)
    if (noop) {
      printf("{\"v\":1,\"id\":\"%s_%08d\",\"kind\":\"order.canceled\",\"occurred_at\":\"2026-11-22T%02d:%02d:%02dZ\",\"shop\":{\"platform\":\"shopify\",\"domain\":\"%s.myshopify.com\"},\"order\":{\"id\":\"%d\",\"name\":\"#%d\",\"currency\":\"%s\",\"total_minor\":%d,\"financial_status\":\"pending\",\"fulfillment_status\":\"unfulfilled\",\"line_items\":[%s]},\"customer\":{\"email\":\"%s.%d@example.com\",\"name\":\"%s\"},\"reason\":\"customer\",\"notify\":[]}\n",
        pfx, i, hh, mm, ss, shop, order_id, 1000 + i, cur, total, items, tolower(name), i, name)
      continue
    }
    kind = "order.canceled"; fulfillment = "unfulfilled"; created = ""; extra = ""
    provider = "stripe"; ref = sprintf("pi_3Mtw%016d", i); reason = reasons[int(rand() * 6) + 1]
    notify = "[\"email\",\"sms\",\"staff\"]"
    if (mix) {
      r = rand()
      if (r < 0.15) { provider = "paypal"; ref = sprintf("%017d", 40000000000000000 + i) }
      else if (r < 0.25) { provider = "square"; ref = sprintf("sqpay_%022d", i) }
      k = rand()
      if (k < 0.15) { kind = "refund.requested"; reason = "customer" }
      else if (k < 0.20) { kind = "refund.requested"; reason = "customer"; fulfillment = "fulfilled" }
      else if (k < 0.23) { kind = "refund.requested"; reason = "customer"; created = long_ago }
      else if (k < 0.33) { kind = "dispute.opened"; notify = "[\"staff\"]"; reason = "dispute"
                           extra = sprintf(",\"dispute\":{\"reason\":\"fraudulent\",\"evidence_due_by\":\"%s\"}", due) }
      else if (k < 0.43) { kind = "order.unfulfillable"; reason = (rand() < 0.7) ? "inventory" : "declined" }
    }
    printf("{\"v\":1,\"id\":\"%s_%08d\",\"kind\":\"%s\",\"occurred_at\":\"%s\",\"shop\":{\"platform\":\"shopify\",\"domain\":\"%s.myshopify.com\"},\"order\":{\"id\":\"%d\",\"name\":\"#%d\",%s\"currency\":\"%s\",\"total_minor\":%d,\"financial_status\":\"paid\",\"fulfillment_status\":\"%s\",\"line_items\":[%s]},\"customer\":{\"email\":\"%s.%d@example.com\",\"phone\":\"+1555%07d\",\"name\":\"%s\"},\"payment\":{\"provider\":\"%s\",\"reference\":\"%s\"},\"refund\":{\"amount_minor\":%d,\"reason\":\"requested_by_customer\"},\"reason\":\"%s\",\"notify\":%s%s}\n",
      pfx, i, kind, mix ? now : sprintf("2026-11-22T%02d:%02d:%02dZ", hh, mm, ss), shop, order_id, 1000 + i,
      created == "" ? "" : sprintf("\"created_at\":\"%s\",", created), cur, total, fulfillment, items,
      tolower(name), i, i % 10000000, name, provider, ref, refund, reason, notify, extra)
  }
}'
