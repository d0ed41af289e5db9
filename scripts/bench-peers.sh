#!/usr/bin/env bash
# Runs the peer benchmarks (../shared/peers: DBOS Transact and BullMQ doing the same workloads) and Steward's
# benchmark in one run on this machine, then prints the comparison. Needs the stack running (scripts/up.sh).
# Raw JSON lines go to bench-results/<stamp>/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS_DIR:-../shared/peers}
[ -d "$PEERS" ] || { echo "no peer benchmarks at $PEERS (set PEERS_DIR)" >&2; exit 1; }
OUT=bench-results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
for d in dbos bullmq; do (cd "$PEERS/$d" && npm install --no-audit --no-fund --loglevel=error >/dev/null); done
quiet() { grep -v -e DeprecationWarning -e trace-deprecation >&2; }
echo "== bullmq" >&2
(cd "$PEERS/bullmq" && node bench.js 64,256 2> >(quiet)) | tee "$OUT/bullmq.jsonl"
echo "== dbos direct" >&2
(cd "$PEERS/dbos" && node bench.js direct 64,256 2> >(quiet)) | tee "$OUT/dbos-direct.jsonl"
echo "== dbos queue-fast" >&2
(cd "$PEERS/dbos" && node bench.js queue-fast 64,256 2> >(quiet)) | tee "$OUT/dbos-queue-fast.jsonl"
echo "== steward" >&2
STEWARD_API_KEY=${STEWARD_API_KEY:-$(cat .steward/api-key 2>/dev/null)} pnpm --silent bench --json | tee "$OUT/steward.jsonl"
node scripts/compare-bench.mjs "$OUT"/*.jsonl | tee "$OUT/comparison.md"
