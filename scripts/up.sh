#!/usr/bin/env bash
# One command from a fresh clone: installs dependencies, makes sure PostgreSQL/Redis/NATS run, migrates the
# database, builds and starts the five services (logs in .steward/logs), then runs a demo task end to end.
# Stop the services with scripts/down.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=$ROOT/.steward
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres:postgres@127.0.0.1:5432/steward}

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Steward needs Node >= 20.19 (found "+process.versions.node+")"); process.exit(1) }'
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "▸ installing pnpm@$PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" --no-audit --no-fund --loglevel=error
fi
echo "▸ installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
echo "▸ checking PostgreSQL, Redis and NATS"
bash scripts/ensure-infra.sh

DB_NAME=$(node -e 'console.log(new URL(process.argv[1]).pathname.slice(1))' "$DATABASE_URL")
ADMIN_URL=$(node -e 'const u=new URL(process.argv[1]); u.pathname="/postgres"; console.log(u.href)' "$DATABASE_URL")
if ! psql -Atq "$ADMIN_URL" -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
  echo "▸ creating database $DB_NAME"
  psql -q "$ADMIN_URL" -c "CREATE DATABASE \"$DB_NAME\""
fi
echo "▸ migrating"
pnpm --silent generate >/dev/null
pnpm --silent migrate
echo "▸ building"
pnpm --silent build >/dev/null

bash scripts/down.sh >/dev/null 2>&1 || true
mkdir -p "$STATE/logs" "$STATE/pids"
# A process left on one of the ports (a service started by hand, or by another checkout) would answer the readiness
# checks below while the service started here dies with EADDRINUSE: refuse to start instead.
for port in 8083 8081 8082 8084 8080; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    holder=$( (ss -Hltnp "sport = :$port" 2>/dev/null || true) | grep -o 'pid=[0-9]*' | head -1)
    echo "port $port is already in use${holder:+ ($holder)}: stop that process (a Steward service left running?) and run this again" >&2
    exit 1
  fi
done
start() { # service port
  (cd "apps/$1" && { HTTP_PORT=$2 NODE_ENV=production nohup node dist/main.js >>"$STATE/logs/$1.log" 2>&1 </dev/null & echo $! >"$STATE/pids/$1.pid"; })
}
# The skill-worker registers the skill catalogue the gateway checks, so it comes first.
start skill-worker 8083
start orchestrator 8081
start workflow-runner 8082
start escalation 8084
start gateway 8080
for service in skill-worker:8083 orchestrator:8081 workflow-runner:8082 escalation:8084 gateway:8080; do
  name=${service%:*}; port=${service#*:}; pid=$(cat "$STATE/pids/$name.pid")
  for i in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited while starting; the end of $STATE/logs/$name.log:" >&2
      tail -n 20 "$STATE/logs/$name.log" >&2
      bash scripts/down.sh >/dev/null 2>&1 || true
      exit 1
    fi
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    if [ "$i" = 120 ]; then
      echo "$name (port $port) did not become ready in 60 s; see $STATE/logs/$name.log" >&2
      bash scripts/down.sh >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.5
  done
done
echo "▸ five services ready (gateway http://127.0.0.1:8080, logs in .steward/logs)"
# An admin key of tenant "default" for the demo and for you, kept in .steward/api-key (issued again if unknown).
KEY_FILE=$STATE/api-key
if [ ! -s "$KEY_FILE" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(cat "$KEY_FILE")" http://127.0.0.1:8080/v1/keys)" != 200 ]; then
  (umask 077; pnpm --silent admin create-tenant default --key-name local-admin --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))' >"$KEY_FILE")
  echo "▸ issued an admin API key for tenant \"default\" into .steward/api-key"
fi
export STEWARD_API_KEY=$(cat "$KEY_FILE")
STEWARD_URL=http://127.0.0.1:8080 node --conditions=development --import tsx scripts/demo.ts
echo "▸ the stack keeps running; stop it with scripts/down.sh"
