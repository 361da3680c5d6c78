#!/usr/bin/env bash
# Idle resident memory of `suishen serve` after start (embedded SQLite, or
# PostgreSQL when SUISHEN_DATABASE_URL is set). Prints VmRSS in MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/suishen" ./cmd/suishen
addr=127.0.0.1:$(( 20000 + RANDOM % 10000 ))
SUISHEN_DATA_DIR=$tmp/data SUISHEN_ADDR=$addr "$tmp/suishen" serve >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://$addr/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep "${SETTLE:-3}"
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "idle RSS after start: $((rss / 1024)) MiB ($rss kB), backend $([ -n "${SUISHEN_DATABASE_URL:-}" ] && echo postgres || echo sqlite)"
