#!/usr/bin/env bash
# The scale run of docs/performance.md ("Trust at scale"): two nodes on one
# PostgreSQL database holding N real certificates (tools/gencerts + suishen
# import) and status lists as for SLOTS slots with BAD not good
# (tools/genstatus -db). Heavy: run by hand, never in CI.
#
#   PGURL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable N=1000000 SLOTS=100000000 \
#     bash tools/genstatus/scale.sh
#
# It creates (and at the end drops) the database suishen_scale, listens on
# 127.0.0.1:18080 and :18081 only, and stops both nodes when it ends.
set -euo pipefail
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
N=${N:-1000000}
SLOTS=${SLOTS:-100000000}
BAD=${BAD:-0.02}
W=${W:-/tmp/suishen-scale}
DB=suishen_scale
DBURL=${PGURL/\/postgres\?/\/$DB?}
A=http://127.0.0.1:18080
B=http://127.0.0.1:18081
mkdir -p "$W"
go build -o "$W/suishen" ./cmd/suishen
go build -o "$W/genstatus" ./tools/genstatus
go build -o "$W/load" ./tools/load
psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export SUISHEN_DATABASE_URL=$DBURL SUISHEN_ADMIN_TOKEN=scale-admin-token-0123456789abcdef0123 \
  SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff SUISHEN_LOG_LEVEL=warn SUISHEN_PUBLIC_URL=$A \
  SUISHEN_PUBLIC_RATE=100000 SUISHEN_VERIFY_RATE=100000
ADMIN=$SUISHEN_ADMIN_TOKEN
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
t() { date +%s.%N; }
since() { echo "$(t) - $1" | bc; }

"$W/suishen" migrate
SUISHEN_ADDR=127.0.0.1:18080 "$W/suishen" serve & pids+=($!)
until curl -sf $A/readyz >/dev/null; do sleep 0.2; done
curl -s -X POST $A/v1/admin/departments -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"上海市市场监督管理局","uscc":"11100000000013338W","level":"省级","certificate_types":["11100000000021001C001"]}' \
  | sed -E 's/.*"api_key":"([^"]+)".*/\1/' > "$W/dept.key"
APP=$(curl -s -X POST $A/v1/admin/apps -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"核验","uscc":"91350100M000100Y43","scopes":["verify"],"certificate_types":[]}' | sed -E 's/.*"api_key":"([^"]+)".*/\1/')

echo "== import $N real certificates"
[ -s "$W/licences.csv" ] || go run ./tools/gencerts -n "$N" > "$W/licences.csv"
s=$(t); "$W/suishen" import --department 11100000000013338W --quiet "$W/licences.csv" >/dev/null; echo "import: $(since $s) s"

echo "== status lists as for $SLOTS slots, $BAD not good"
"$W/genstatus" -slots "$SLOTS" -bad "$BAD" -db "$DBURL" -first 1 -revoke-real

SUISHEN_ADDR=127.0.0.1:18081 "$W/suishen" serve & pids+=($!)
until curl -sf $B/readyz >/dev/null; do sleep 0.2; done
"$W/suishen" keys export > "$W/anchor.pem"

echo "== bundle"
s=$(t); curl -s $A/v1/trust -o "$W/bundle.jws"; echo "first bundle on A (signs every list): $(since $s) s"
s=$(t); curl -s $B/v1/trust -o /dev/null; echo "first bundle on B (lists already signed): $(since $s) s"
echo "bundle: $(wc -c < "$W/bundle.jws") bytes, gzip $(gzip -c "$W/bundle.jws" | wc -c) bytes"
python3 - "$W/bundle.jws" <<'PY'
import base64, json, sys
p = open(sys.argv[1]).read().strip().split('.')[1]
b = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
print("bundle holds %d keys and %d list references" % (len(b["keys"]), len(b["status_lists"])))
PY
REAL=$(psql "$DBURL" -tAc "SELECT status_list FROM certificates WHERE issuer_uscc <> 'SYNTHETIC' LIMIT 1")
L=$(curl -s $A/v1/status-lists/$REAL | wc -c); echo "one list ($REAL, the real certificates): $L bytes"

echo "== trust fetch"
rm -rf "$W/tf"; mkdir -p "$W/tf"
s=$(t); "$W/suishen" trust fetch --server $B --anchor "$W/anchor.pem" --out "$W/tf/trust.jws"; echo "full: $(since $s) s"
echo "on disk: $(du -sb "$W/tf" | cut -f1) bytes"
s=$(t); "$W/suishen" trust fetch --server $B --anchor "$W/anchor.pem" --out "$W/tf/trust.jws"; echo "incremental, nothing changed: $(since $s) s"

echo "== revocation → every node's bundle"
ID=$(psql "$DBURL" -tAc "SELECT id FROM certificates WHERE issuer_uscc <> 'SYNTHETIC' AND status = 'valid' ORDER BY id LIMIT 1 OFFSET 777")
psql "$DBURL" -tAc "SELECT jws FROM certificates WHERE id = '$ID'" > "$W/cert.jws"
LIST=$(psql "$DBURL" -tAc "SELECT status_list FROM certificates WHERE id = '$ID'")
sm3() { curl -s "$1/v1/trust" | python3 -c "
import base64, json, sys
p = sys.stdin.read().strip().split('.')[1]
b = json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
print([r['sm3'] for r in b['status_lists'] if r['id'] == '$LIST'][0])"; }
before=$(sm3 $B)
etag() { curl -sI "$1/v1/trust" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p'; }
ea=$(etag $A); eb=$(etag $B)
s=$(t)
curl -s -o /dev/null -X POST $A/v1/certificates/$ID/revoke -H "Authorization: Bearer $(cat "$W/dept.key")" -H 'Content-Type: application/json' -d '{"reason":"吊销"}'
echo "revoke answered: $(since $s) s"
# Poll both nodes' bundle ETags (cheap), then check the new bundle pins a new list.
da= db=
while [ -z "$da" ] || [ -z "$db" ]; do
  [ -z "$da" ] && [ "$(etag $A)" != "$ea" ] && da=$(since $s)
  [ -z "$db" ] && [ "$(etag $B)" != "$eb" ] && db=$(since $s)
  sleep 0.01
done
echo "node A's bundle changed $da s, node B's $db s after the revocation was sent"
[ "$(sm3 $A)" != "$before" ] && [ "$(sm3 $B)" != "$before" ] && echo "both pin the new form of $LIST"
s=$(t); "$W/suishen" trust fetch --server $B --anchor "$W/anchor.pem" --out "$W/tf/trust.jws"; echo "incremental after one revocation: $(since $s) s"

echo "== verification latency"
"$W/suishen" verify --jws "$W/cert.jws" --trust "$W/tf/trust.jws" --anchor "$W/anchor.pem" || true
for i in 1 2 3; do /usr/bin/time -f "offline CLI (process, bundle, one list): %e s, max RSS %M KiB" \
  "$W/suishen" verify --jws "$W/cert.jws" --trust "$W/tf/trust.jws" --anchor "$W/anchor.pem" >/dev/null || true; done
for i in 1 2 3; do /usr/bin/time -f "baseline: suishen version: %e s, max RSS %M KiB" "$W/suishen" version >/dev/null; done
printf '{"jws":"%s"}' "$(tr -d '\n' < "$W/cert.jws")" > "$W/verify.json"
echo "online POST /v1/verify (certificate), concurrency 1, 10 s:"
"$W/load" -c 1 -d 10s -m POST -body-file "$W/verify.json" -H "Authorization: Bearer $APP" -expect 200 $B/v1/verify
echo "baseline GET /readyz, concurrency 1, 10 s:"
"$W/load" -c 1 -d 10s -expect 200 $B/readyz
cleanup
psql "$PGURL" -qc "DROP DATABASE $DB" || true
