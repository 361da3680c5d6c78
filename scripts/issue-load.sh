#!/bin/bash
# Used by docs/performance.md ("Fail-closed key check"). Needs /tmp/ke/load (go build -o /tmp/ke/load ./tools/load),
# /tmp/ke/licence.json (the licence body of docs/performance.md with "number":"L{{n}}") and a database ke_perf.
# usage: run.sh BINARY TAG  — serve, issue for 8 s at c=32, stop
set -e
export SUISHEN_DATABASE_URL='postgres://postgres@127.0.0.1:5432/ke_perf?sslmode=disable'
export SUISHEN_ADMIN_TOKEN=perf-admin-token-0123456789abcdef SUISHEN_MASTER_KEY=00112233445566778899aabbccddeeff
export SUISHEN_ADDR=127.0.0.1:18781 SUISHEN_LOG_LEVEL=warn SUISHEN_DATA_DIR=/tmp/ke/data
$1 serve >/tmp/ke/serve-$2.log 2>&1 &
pid=$!
for i in $(seq 50); do curl -sf http://$SUISHEN_ADDR/readyz >/dev/null && break; sleep 0.2; done
if [ ! -f /tmp/ke/deptkey ]; then
  curl -sf -X POST http://$SUISHEN_ADDR/v1/admin/departments -H "Authorization: Bearer $SUISHEN_ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"市市场监督管理局","uscc":"11100000000013338W","level":"地市级","certificate_types":["11100000000021001C001"]}' | jq -r .api_key > /tmp/ke/deptkey
fi
body=$(sed "s/\"L{{n}}\"/\"$2-{{n}}\"/" /tmp/ke/licence.json)
/tmp/ke/load -c 32 -d 8s -m POST -body "$body" -H "Authorization: Bearer $(cat /tmp/ke/deptkey)" -expect 201 http://$SUISHEN_ADDR/v1/certificates 2>&1 | tail -4
kill $pid; wait $pid 2>/dev/null || true
