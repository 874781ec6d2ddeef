#!/usr/bin/env bash
# Validates the monitoring that ships with the repository:
#   1. deploy/prometheus/alerts.yml        promtool check rules (syntax, PromQL, templates)
#   2. deploy/prometheus/alerts_test.yml   promtool test rules (every alert fires when it
#                                          should and stays quiet when it should not)
#   3. every runbook_url anchor in the rules has a heading in docs/runbook.md
#   4. deploy/grafana/rescind-dashboard.json is well-formed JSON, every panel queries the
#      ${DS_PROMETHEUS} data source, ids are unique, panels do not overlap, and every panel
#      query is valid PromQL (checked by promtool). Without python3: a weaker, promtool-only
#      well-formedness check.
# Needs promtool (Debian: apt-get install prometheus). Exit status 0 when all pass, 1 otherwise.
#   scripts/check-alerts.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

rules=deploy/prometheus/alerts.yml
tests=deploy/prometheus/alerts_test.yml
dashboard=deploy/grafana/rescind-dashboard.json
runbooks=(docs/runbook.md)

failures=0
fail() { echo "check-alerts: FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "check-alerts: ok: $*"; }

if ! command -v promtool >/dev/null 2>&1; then
  cat >&2 <<'EOF'
check-alerts: promtool is not installed; it is needed to validate the Prometheus rules.
  Debian/Ubuntu:  apt-get update && apt-get install -y --no-install-recommends prometheus
                  (promtool is in the 'prometheus' package, /usr/bin/promtool)
  elsewhere:      promtool is in every Prometheus release archive, https://prometheus.io/download/
EOF
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 1, 2: the rules and their unit tests -------------------------------------------------
if promtool check rules "$rules" >"$work/check.out" 2>&1; then
  pass "promtool check rules $rules ($(grep -o '[0-9]* rules found' "$work/check.out"))"
else
  cat "$work/check.out" >&2
  fail "promtool check rules $rules"
fi

if promtool test rules "$tests" >"$work/test.out" 2>&1; then
  pass "promtool test rules $tests ($(grep -c '^  - name:' "$tests") tests)"
else
  cat "$work/test.out" >&2
  fail "promtool test rules $tests (an alert fired, or did not, against expectations: see above)"
fi

# --- 3: runbook anchors ---------------------------------------------------------------------
# GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces
# become '-'. Explicit <a id="..."> / <a name="..."> anchors count too.
anchors_of() {
  sed -n 's/^#\{1,6\}[[:space:]]\{1,\}//p' "$1" | tr '[:upper:]' '[:lower:]' |
    sed 's/[^a-z0-9 _-]//g; s/ /-/g'
  grep -o '\(id\|name\)="[^"]*"' "$1" | sed 's/^[a-z]*="//; s/"$//'
}
present=()
for f in "${runbooks[@]}"; do [ -f "$f" ] && present+=("$f"); done
if [ ${#present[@]} -eq 0 ]; then
  fail "no runbook: none of ${runbooks[*]} exists, but $rules links to one"
else
  for f in "${present[@]}"; do anchors_of "$f"; done | sort -u >"$work/anchors"
  missing=0
  sed -n 's/.*runbook_url:[[:space:]]*"\{0,1\}[^#"]*#\([^"[:space:]]*\)"\{0,1\}.*/\1/p' "$rules" | sort -u >"$work/wanted"
  while read -r anchor; do
    if ! grep -qxF "$anchor" "$work/anchors"; then
      fail "runbook_url anchor #$anchor in $rules has no heading in ${present[*]}"
      missing=1
    fi
  done <"$work/wanted"
  if ! grep -q 'runbook_url:' "$rules"; then fail "no runbook_url annotation in $rules"; missing=1; fi
  [ $missing -eq 0 ] && pass "every runbook_url anchor has a section in ${present[*]}"
fi

# --- 4: the dashboard -----------------------------------------------------------------------
if [ ! -f "$dashboard" ]; then
  fail "$dashboard is missing"
elif command -v python3 >/dev/null 2>&1; then
  if ! python3 -m json.tool "$dashboard" >/dev/null 2>"$work/json.err"; then
    cat "$work/json.err" >&2
    fail "$dashboard is not well-formed JSON"
  elif python3 - "$dashboard" "$work/dashboard-rules.yml" <<'EOF'; then
import json, sys

path, rules_out = sys.argv[1], sys.argv[2]
d = json.load(open(path))
problems = []
if not 30 <= d.get("schemaVersion", 0) <= 45:
    problems.append(f"schemaVersion {d.get('schemaVersion')} is not a current Grafana schema")
variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
if variables.get("DS_PROMETHEUS", {}).get("type") != "datasource":
    problems.append("no datasource variable named DS_PROMETHEUS")
for name, v in variables.items():
    if v.get("type") == "query" and v.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
        problems.append(f"variable '{name}' does not query the ${{DS_PROMETHEUS}} data source")

panels, ids, boxes, exprs = d.get("panels", []), set(), [], []
for p in panels:
    title = p.get("title", "?")
    if p.get("id") in ids:
        problems.append(f"panel id {p.get('id')} is used twice")
    ids.add(p.get("id"))
    g = p.get("gridPos", {})
    if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
        problems.append(f"panel '{title}': bad gridPos {g}")
        continue
    for other_title, o in boxes:
        if g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]:
            problems.append(f"panels '{title}' and '{other_title}' overlap")
    boxes.append((title, g))
    if p.get("type") == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
        problems.append(f"panel '{title}' does not use the ${{DS_PROMETHEUS}} data source")
    targets = p.get("targets", [])
    if not targets:
        problems.append(f"panel '{title}' has no query")
    for t in targets:
        if t.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
            problems.append(f"panel '{title}' query {t.get('refId')} does not use ${{DS_PROMETHEUS}}")
        if not t.get("expr"):
            problems.append(f"panel '{title}' query {t.get('refId')} has no expr")
        else:
            exprs.append((title, t["expr"]))

# Grafana's variables, replaced by what they stand for, so promtool can parse each query.
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
         "$job": "rescind-worker", "$instance": ".*", "$provider": ".*"}
with open(rules_out, "w") as out:
    out.write("groups:\n  - name: dashboard-queries\n    rules:\n")
    for i, (title, expr) in enumerate(exprs):
        for k in sorted(subst, key=len, reverse=True):
            expr = expr.replace(k, subst[k])
        if "$" in expr:
            problems.append(f"panel '{title}': unknown variable in {expr!r}")
        out.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}\n")

for p in problems:
    print(f"  {path}: {p}", file=sys.stderr)
print(f"  {len(panels)} panels, {len(exprs)} queries")
sys.exit(1 if problems else 0)
EOF
    if promtool check rules "$work/dashboard-rules.yml" >"$work/dash.out" 2>&1; then
      pass "$dashboard: well-formed JSON, every panel on \${DS_PROMETHEUS}, every query valid PromQL"
    else
      cat "$work/dash.out" >&2
      fail "$dashboard: a panel query is not valid PromQL (dashboard:query_N is the Nth query, in panel order)"
    fi
  else
    fail "$dashboard: structure (see above)"
  fi
else
  # No python3: YAML is (nearly) a superset of JSON, so promtool's YAML parser reads the
  # dashboard. A syntax error ("yaml: line N: ...") means broken JSON; a well-formed file is
  # refused only for not being a rule file ("field panels not found"). Laxer than a JSON
  # parser (a trailing comma passes), but it catches truncation and missing brackets,
  # quotes and commas.
  promtool check rules "$dashboard" >"$work/dash.out" 2>&1
  if grep -q 'yaml: line' "$work/dash.out" || ! grep -q 'field panels not found' "$work/dash.out" ||
     [ "$(head -c 1 "$dashboard")" != "{" ]; then
    grep 'yaml:' "$work/dash.out" | sort -u >&2
    fail "$dashboard is not well-formed JSON (checked with promtool's YAML parser; python3 is absent)"
  else
    pass "$dashboard parses (promtool-only check; install python3 for the full one)"
  fi
fi

if [ $failures -ne 0 ]; then
  echo "check-alerts: $failures check(s) failed" >&2
  exit 1
fi
echo "check-alerts: all checks passed"
