#!/usr/bin/env bash
# Prints N realistic order.canceled jobs (schema v1) as NDJSON, deterministic per seed.
#   scripts/gen-jobs.sh 1000 > jobs.ndjson
#   scripts/gen-jobs.sh --seed 7 --id-prefix demo 200 | rescindctl enqueue -
# --noop makes jobs with no steps (unpaid, nobody to notify): the queue alone, for benchmarks.
set -euo pipefail

usage() {
  echo "usage: $0 [--seed N] [--id-prefix P] [--noop] COUNT" >&2
  exit 2
}

seed=1 id_prefix=evt noop=0 count=
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=${2:?}; shift 2 ;;
    --id-prefix) id_prefix=${2:?}; shift 2 ;;
    --noop) noop=1; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) count=$1; shift ;;
  esac
done
[[ "$count" =~ ^[0-9]+$ ]] || usage

awk -v n="$count" -v seed="$seed" -v pfx="$id_prefix" -v noop="$noop" 'BEGIN {
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
    printf("{\"v\":1,\"id\":\"%s_%08d\",\"kind\":\"order.canceled\",\"occurred_at\":\"2026-11-22T%02d:%02d:%02dZ\",\"shop\":{\"platform\":\"shopify\",\"domain\":\"%s.myshopify.com\"},\"order\":{\"id\":\"%d\",\"name\":\"#%d\",\"currency\":\"%s\",\"total_minor\":%d,\"financial_status\":\"paid\",\"fulfillment_status\":\"unfulfilled\",\"line_items\":[%s]},\"customer\":{\"email\":\"%s.%d@example.com\",\"phone\":\"+1555%07d\",\"name\":\"%s\"},\"payment\":{\"provider\":\"stripe\",\"reference\":\"pi_3Mtw%016d\"},\"refund\":{\"amount_minor\":%d,\"reason\":\"requested_by_customer\"},\"reason\":\"%s\",\"notify\":[\"email\",\"sms\",\"staff\"]}\n",
      pfx, i, hh, mm, ss, shop, order_id, 1000 + i, cur, total, items, tolower(name), i, i % 10000000, name, i, refund, reasons[int(rand() * 6) + 1])
  }
}'
