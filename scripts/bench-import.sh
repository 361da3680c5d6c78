#!/usr/bin/env bash
# Bulk import (`suishen import`) on both backends, several builds in the same run (docs/performance.md):
# for every backend, every round and every build, a fresh database (a new PostgreSQL database, or a new
# SQLite data directory), a node started only to register the department and stopped again, then the
# import of the same N-row file with the node stopped. Builds alternate within a round, so machine load
# drifts evenly over them. Loopback only; bounded. Needs PostgreSQL at 127.0.0.1:5432 (trust auth).
#
#   N=200000 ROUNDS=2 BACKENDS="sqlite postgres" scripts/bench-import.sh base=/tmp/suishen-base cur=/tmp/suishen-cur
#
# Each argument is LABEL=BINARY; without arguments the current tree is built as "cur". PROFILE=DIR writes
# a CPU profile of every import to DIR/LABEL-BACKEND-ROUND.prof. Besides the rate and the wall time, each line
# has the import process's CPU seconds (user+sys: on SQLite this includes the database's work, and it depends
# far less than the wall time on what else the machine runs) and, on PostgreSQL, the WAL it wrote (MB).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
ROUNDS=${ROUNDS:-2}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
export PGOPTIONS="-c client_min_messages=warning"
work=$(mktemp -d)
srv=0
db=""
cleanup() {
  [ "$srv" = 0 ] || kill "$srv" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -z "$db" ] || psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
builds=("$@")
if [ ${#builds[@]} = 0 ]; then
  go build -o "$work/suishen" ./cmd/suishen
  builds=("cur=$work/suishen")
fi
go run ./tools/gencerts -n "$N" > "$work/lic.csv"
export SUISHEN_ADMIN_TOKEN=bench-admin-token-0123456789abcdef0123 SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff
export SUISHEN_ADDR=127.0.0.1:18097 SUISHEN_LOG_LEVEL=warn
S=http://$SUISHEN_ADDR
echo "backend round build certificates_per_s wall_s cpu_s wal_mb"
for backend in $BACKENDS; do
  for round in $(seq 1 "$ROUNDS"); do
    for b in "${builds[@]}"; do
      label=${b%%=*} bin=${b#*=}
      rm -rf "$work/data" && mkdir -p "$work/data"
      export SUISHEN_DATA_DIR=$work/data SUISHEN_DATABASE_URL=
      if [ "$backend" = postgres ]; then
        db=suishen_bench_import_$$
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
        export SUISHEN_DATABASE_URL="$PG/$db?sslmode=disable"
      fi
      "$bin" serve >"$work/serve.log" 2>&1 & srv=$!
      for _ in $(seq 1 150); do curl -sf $S/readyz >/dev/null && break; sleep 0.2; done
      curl -sf -o /dev/null -X POST $S/v1/admin/departments -H "Authorization: Bearer $SUISHEN_ADMIN_TOKEN" \
        -H 'Content-Type: application/json' \
        -d '{"name":"上海市市场监督管理局","uscc":"11100000000013338W","level":"省级","certificate_types":["11100000000021001C001"]}'
      kill "$srv"; wait "$srv" 2>/dev/null || true; srv=0
      prof=()
      [ -z "${PROFILE:-}" ] || prof=(--cpuprofile "$PROFILE/$label-$backend-$round.prof")
      lsn=""
      [ "$backend" != postgres ] || lsn=$(psql "$PG/postgres" -Atc "SELECT pg_current_wal_lsn()")
      start=$(date +%s.%N)
      out=$(/usr/bin/time -f "cpu %U %S" -o "$work/time" "$bin" import --department 11100000000013338W --quiet "${prof[@]}" "$work/lic.csv")
      wall=$(echo "$(date +%s.%N) - $start" | bc)
      rate=$(echo "$out" | sed -nE 's/.*\(([0-9]+)\/s\).*/\1/p')
      cpu=$(awk '/^cpu/ {print $2 + $3}' "$work/time")
      wal=-
      [ -z "$lsn" ] || wal=$(psql "$PG/postgres" -Atc "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn') / 1e6)")
      echo "$backend $round $label $rate $wall $cpu $wal"
      if [ "$backend" = postgres ]; then
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; db=""
      fi
    done
  done
done
