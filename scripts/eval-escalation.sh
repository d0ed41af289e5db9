#!/usr/bin/env bash
# Generates the shipped escalation scenarios' 5,000-decision streams (seed 1; deterministic, so not committed) into
# .steward/scenarios/ and runs the evaluation runner on each. Extra arguments go to the runner (e.g. --json, --seed 2).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.steward/scenarios
mkdir -p "$OUT"
for name in consistent contextual drifting; do
  node --conditions=development --import tsx packages/escalation-engine/src/eval/generate.ts \
    --n 5000 --seed 1 --agent-accuracy 0.87 --policy "packages/escalation-engine/scenarios/$name.json" --out "$OUT/$name.jsonl" >/dev/null
  echo "== $name" >&2
  node --conditions=development --import tsx packages/escalation-engine/src/eval/cli.ts \
    --decisions "$OUT/$name.jsonl" --policy "packages/escalation-engine/scenarios/$name.json" "$@"
done
