#!/usr/bin/env bash
# Benchmark of the standalone simulator (issue 3, point 13).
#
# 1. GET payment with wrk (64 connections, 2 threads) against the release
#    binary `vipps-golive simulator`, a separate process, as a shop would run it.
# 2. `cargo bench --bench simulator`: GET again with the in-process load
#    generator, the engine alone, create -> approve -> capture chains with 64
#    connections, and RSS with 100 000 payments held.
#
# Usage: benches/run.sh [seconds per phase, default 10]
# Installs wrk with apt-get when it is missing (root, Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet
BIN=target/release/vipps-golive
OUT="$(mktemp)"
"$BIN" simulator --port 0 --control --no-rate-limits >"$OUT" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$OUT" && break; sleep 0.1; done
BASE="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$OUT" | head -1)"
[ -n "$BASE" ] || { cat "$OUT"; echo "the simulator did not start" >&2; exit 1; }

# The simulator's own demo credentials (printed by the simulator itself).
KEY=sim-subscription-key-123456
TOKEN="$(curl -s -X POST "$BASE/accesstoken/get" \
  -H 'client_id: sim-client-id-123456' -H 'client_secret: sim-client-secret-123456' \
  -H "Ocp-Apim-Subscription-Key: $KEY" -H 'Merchant-Serial-Number: 123456' |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
H=(-H "Authorization: Bearer $TOKEN" -H "Ocp-Apim-Subscription-Key: $KEY"
   -H 'Merchant-Serial-Number: 123456' -H 'Vipps-System-Name: bench'
   -H 'Vipps-System-Version: 1' -H 'Vipps-System-Plugin-Name: bench'
   -H 'Vipps-System-Plugin-Version: 1')
curl -s -o /dev/null -w 'create: %{http_code}\n' -X POST "$BASE/epayment/v1/payments" "${H[@]}" \
  -H 'Idempotency-Key: bench-wrk-create' -H 'Content-Type: application/json' \
  -d '{"amount":{"currency":"NOK","value":1000},"paymentMethod":{"type":"WALLET"},"reference":"bench-wrk-0001","userFlow":"WEB_REDIRECT","returnUrl":"https://shop.example/r","paymentDescription":"bench"}'

echo "== wrk: GET payment, 64 connections, ${SECS} s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
wrk -t2 -c64 -d"${SECS}s" "${H[@]}" "$BASE/epayment/v1/payments/bench-wrk-0001"
echo "simulator RSS after wrk: $(awk '/VmRSS/ {print int($2/1024)" MB"}' /proc/$SIM_PID/status)"
kill "$SIM_PID"

echo "== in-process bench (chains, memory with 100 000 payments)"
BENCH_SECONDS="$SECS" cargo bench --quiet --bench simulator
