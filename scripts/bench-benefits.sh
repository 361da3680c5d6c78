#!/usr/bin/env bash
# 免申即享 at scale on PostgreSQL (docs/performance.md): a full match over N business licences (every holder
# qualifies — the worst case: one offer and one usage record per holder), again (every offer renewed), then a
# selective policy (about one holder in nine qualifies), and the issuance latency an incremental evaluation adds
# (HTTP issuance with no policy reading the type, then with one, same run).
# Loopback only; bounded in time. Needs PostgreSQL at 127.0.0.1:5432 (trust auth), as on the dev machines.
#
#   N=1000000 scripts/bench-benefits.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
DB=suishen_bench_$$
PG=postgres://postgres@127.0.0.1:5432
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
work=$(mktemp -d)
cleanup() { kill "${srv:-0}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
export SUISHEN_DATABASE_URL="$PG/$DB?sslmode=disable" SUISHEN_ADMIN_TOKEN=bench-admin-token-0123456789abcdef0123
export SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff SUISHEN_ADDR=127.0.0.1:${BENCH_PORT:-18089} SUISHEN_LOG_LEVEL=warn
export SUISHEN_REQUEST_TIMEOUT=600s
# PROF=FILE: a 20 s CPU profile of the server during the first full match (go tool pprof FILE).
if [ -n "${PROF:-}" ]; then export SUISHEN_METRICS_ADDR=127.0.0.1:$(( ${BENCH_PORT:-18089} + 1 )) SUISHEN_PPROF=true; fi
go build -o "$work/suishen" ./cmd/suishen && go build -o "$work/load" ./tools/load
"$work/suishen" serve >"$work/serve.log" 2>&1 & srv=$!
for _ in $(seq 1 100); do curl -sf http://$SUISHEN_ADDR/readyz >/dev/null && break; sleep 0.2; done
S=http://$SUISHEN_ADDR
DEPT=$(curl -s -X POST $S/v1/admin/departments -H "Authorization: Bearer $SUISHEN_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"上海市市场监督管理局","uscc":"11100000000013338W","level":"省级","certificate_types":["11100000000021001C001"]}' \
  | sed -E 's/.*"api_key":"([^"]+)".*/\1/')
go run ./tools/gencerts -n "$N" > "$work/lic.csv"
echo "== import $N licences"
/usr/bin/time -f "import: %e s wall" "$work/suishen" import --department 11100000000013338W --quiet "$work/lic.csv"
go run ./tools/gencerts -n 20000 -prefix H -format jsonl > "$work/more.jsonl"
echo "== issuance over HTTP, c16, no policy reads 营业执照 (baseline)"
"$work/load" -c 16 -n 3000 -m POST -bodies "$work/more.jsonl" -H "Authorization: Bearer $DEPT" -expect 201 $S/v1/certificates
POL='{"code":"BENCH-5Y","name":"企业满五年稳岗补贴（测试）","legal_basis":"测试","holder_kind":"enterprise","area_codes":["31"],"valid_from":"2026-01-01",
"criteria":[{"certificate_type":"11100000000021001C001","field":"establishment_date","op":"years_since_gte","value":5}],"benefit":{"description":"测试"}}'
# The outbox of the import (one event per licence; no policy reads the type yet) drains before anything is timed
# (re-evaluations scheduled for a later day — an enterprise turning 28 next week — are not pending).
drain() { for _ in $(seq 1 3600); do [ "$(psql "$PG/$DB" -Atc 'SELECT count(*) FROM benefit_events WHERE not_before <= now() OR attempts > 0')" = 0 ] && return; sleep 0.5; done; }
t0=$(date +%s.%N); drain; echo "outbox drained: $(echo "$(date +%s.%N) - $t0" | bc) s after the import"
# CPU seconds used so far by the server process and by the PostgreSQL backends serving this database (the pool's
# connections persist, so the same backends serve the whole run): "per core" figures divide by these.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu() {
  local s=0 p
  for p in $(psql "$PG/$DB" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()"); do s=$((s + $(ticks "$p"))); done
  echo "$(ticks "$srv") $s"
}
cpudiff() { # before after → "server X s, PostgreSQL Y s"
  local hz; hz=$(getconf CLK_TCK)
  echo "CPU: server $(echo "scale=1; ($3 - $1) / $hz" | bc) s, PostgreSQL backends $(echo "scale=1; ($4 - $2) / $hz" | bc) s"
}
# A full match runs in the background: wait for it, then read its figures from the policy row.
waitmatch() { # [policy code]
  local code=${1:-BENCH-5Y}
  for _ in $(seq 1 7200); do
    st=$(psql "$PG/$DB" -Atc "SELECT match_status FROM policies WHERE code = '$code'")
    [ "$st" = done ] || [ "$st" = failed ] && break; sleep 0.2
  done
  psql "$PG/$DB" -Atc "SELECT 'match ' || match_status || ': ' || match_read || ' holders read, ' || match_eligible || ' eligible, ' ||
    round(extract(epoch FROM match_finished_at - match_started_at)::numeric, 1) || ' s → ' ||
    round(match_read / extract(epoch FROM match_finished_at - match_started_at)) || ' certificates/s' FROM policies WHERE code = '$code'"
}
echo "== full match when the policy is created (POST /v1/policies answers at once; the match runs in the background)"
c0=$(cpu)
curl -s -o "$work/pol.json" -w 'create: HTTP %{http_code} in %{time_total} s\n' -X POST $S/v1/policies -H "Authorization: Bearer $DEPT" -H 'Content-Type: application/json' -d "$POL"
[ -n "${PROF:-}" ] && { curl -s -o "$PROF" "http://$SUISHEN_METRICS_ADDR/debug/pprof/profile?seconds=20" & }
waitmatch
cpudiff $c0 $(cpu)
echo "== full match again (every holder already offered)"
c0=$(cpu)
curl -s -o /dev/null -w 'queue: HTTP %{http_code} in %{time_total} s\n' -X POST $S/v1/policies/BENCH-5Y/match -H "Authorization: Bearer $DEPT"
waitmatch
cpudiff $c0 $(cpu)
echo "== full match of a selective policy (enterprises of 28 years or more: about one holder in nine qualifies)"
POL28=$(echo "$POL" | sed -e 's/BENCH-5Y/BENCH-28Y/' -e 's/满五年/满二十八年/' -e 's/"value":5/"value":28/')
c0=$(cpu)
curl -s -o /dev/null -w 'create: HTTP %{http_code} in %{time_total} s\n' -X POST $S/v1/policies -H "Authorization: Bearer $DEPT" -H 'Content-Type: application/json' -d "$POL28"
waitmatch BENCH-28Y
cpudiff $c0 $(cpu)
go run ./tools/gencerts -n 20000 -prefix K -format jsonl > "$work/more2.jsonl"
echo "== issuance over HTTP, c16, with the policy (each issuance's holder is evaluated from the outbox after commit)"
"$work/load" -c 16 -n 3000 -m POST -bodies "$work/more2.jsonl" -H "Authorization: Bearer $DEPT" -expect 201 $S/v1/certificates
t0=$(date +%s.%N); drain; echo "outbox drained: $(echo "$(date +%s.%N) - $t0" | bc) s after the load ended"
psql "$PG/$DB" -Atc "SELECT 'entitlements ' || count(*) FROM entitlements; SELECT 'usage records ' || count(*) FROM usage_records WHERE channel = 'benefit'"
