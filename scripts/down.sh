#!/usr/bin/env bash
# Stops the services started by scripts/up.sh with SIGTERM (they drain in-flight work), SIGKILL after 30 s.
set -uo pipefail
cd "$(dirname "$0")/.."
for f in .steward/pids/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f"); name=$(basename "$f" .pid)
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $name"
  fi
  rm -f "$f"
done
