#!/usr/bin/env bash
# Where PostgreSQL's time in a 免申即享 full match goes (docs/performance.md, "Second round"), with psql on a
# database of N imported 营业执照: walking the type's valid certificates in holder order (the match's read) against a
# sequential scan, inserting one usage record per holder, inserting one entitlement per holder, and renewing every
# entitlement at fillfactor 100 against 50 (HOT updates). Needs PostgreSQL at 127.0.0.1:5432 (trust auth).
#
#   N=200000 scripts/pg-match-costs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
DB=suishen_costs_$$
PG=postgres://postgres@127.0.0.1:5432
work=$(mktemp -d)
cleanup() { if [ -n "${srv:-}" ]; then kill "$srv" 2>/dev/null || true; fi; wait 2>/dev/null || true; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
export SUISHEN_DATABASE_URL="$PG/$DB?sslmode=disable" SUISHEN_ADMIN_TOKEN=bench-admin-token-0123456789abcdef0123
export SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff SUISHEN_ADDR=127.0.0.1:${BENCH_PORT:-18097} SUISHEN_LOG_LEVEL=warn
go build -o "$work/suishen" ./cmd/suishen
"$work/suishen" serve >"$work/serve.log" 2>&1 & srv=$!
for _ in $(seq 1 100); do curl -sf "http://$SUISHEN_ADDR/readyz" >/dev/null && break; sleep 0.2; done
curl -s -o /dev/null -X POST "http://$SUISHEN_ADDR/v1/admin/departments" -H "Authorization: Bearer $SUISHEN_ADMIN_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"name":"上海市市场监督管理局","uscc":"11100000000013338W","level":"省级","certificate_types":["11100000000021001C001"]}'
go run ./tools/gencerts -n "$N" > "$work/lic.csv"
"$work/suishen" import --department 11100000000013338W --quiet "$work/lic.csv"
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=
psql "$PG/$DB" -q -c "VACUUM ANALYZE certificates" -c "CHECKPOINT"
echo "== $N certificates; each figure is the statement's time (divide by N for a certificate)"
psql "$PG/$DB" -q <<'SQL'
\timing on
\echo '-- the match read: the type''s valid certificates in holder order (index scan), twice (cold, warm)'
SELECT count(*) FROM (SELECT id, type_code, holder_subject, valid_from, valid_until, jws FROM certificates
  WHERE type_code = '11100000000021001C001' AND status = 'valid' ORDER BY type_code, holder_subject, id) t;
SELECT count(*) FROM (SELECT id, type_code, holder_subject, valid_from, valid_until, jws FROM certificates
  WHERE type_code = '11100000000021001C001' AND status = 'valid' ORDER BY type_code, holder_subject, id) t;
\echo '-- the same rows by a sequential scan (no holder order)'
SELECT count(*) FROM (SELECT id, type_code, holder_subject, valid_from, valid_until, jws FROM certificates
  WHERE type_code = '11100000000021001C001' AND status = 'valid') t;
\echo '-- one usage record per holder (INSERT ... SELECT; the matcher uses COPY)'
BEGIN;
INSERT INTO usage_records (id, holder_subject, at, org, org_uscc, operator, item_code, item_name, business_code, purpose,
  certificate_id, code_kind, channel, result, app_id, detail, org_unit)
SELECT gen_random_uuid()::text, holder_subject, now(), '上海市市场监督管理局', '11100000000013338W', '', 'BENCH-28Y',
  '企业满二十八年稳岗补贴（测试）', '', '免申即享：企业满二十八年稳岗补贴（测试）', id, '', 'benefit', 'not_eligible', '', '', ''
FROM certificates ORDER BY holder_subject;
ROLLBACK;
\timing off
SQL
for ff in 100 50; do
  psql "$PG/$DB" -q <<SQL
CREATE TABLE e (LIKE entitlements INCLUDING DEFAULTS) WITH (fillfactor = $ff);
CREATE UNIQUE INDEX e_ph ON e (policy_code, holder_subject); CREATE INDEX e_h ON e (holder_subject, id); CREATE INDEX e_p ON e (policy_code, id);
\echo '-- fillfactor $ff: one entitlement per holder, then every one renewed by the upsert a full match runs'
\timing on
INSERT INTO e (id, policy_code, holder_subject, masked_name, status, evidence, created_at, updated_at, evaluated_at)
SELECT gen_random_uuid()::text, 'P', holder_subject, '上*', 'offered', '[]', now(), now(), now() FROM certificates ORDER BY holder_subject;
CHECKPOINT;
INSERT INTO e (id, policy_code, holder_subject, masked_name, status, evidence, created_at, updated_at, evaluated_at)
SELECT gen_random_uuid()::text, 'P', holder_subject, '上*', 'offered', '[1]', now(), now(), now() FROM certificates ORDER BY holder_subject
ON CONFLICT (policy_code, holder_subject) DO UPDATE SET masked_name = excluded.masked_name, evidence = excluded.evidence,
  updated_at = excluded.updated_at, evaluated_at = excluded.evaluated_at WHERE e.evaluated_at <= excluded.evaluated_at;
\timing off
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.1);
SELECT 'HOT updates: ' || n_tup_hot_upd || ' of ' || n_tup_upd FROM pg_stat_user_tables WHERE relname = 'e';
DROP TABLE e;
SQL
done
