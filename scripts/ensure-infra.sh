#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS (JetStream) answer on 127.0.0.1; starts them if not, and on Debian
# installs them first when missing and running as root. Idempotent; used by .ci/run and scripts/up.sh.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_PORT=6379 NATS_PORT=4222

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port name
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "ensure-infra: $2 did not come up on 127.0.0.1:$1" >&2; return 1
}
need_pkg() { # binary package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-infra: installing $2 from Debian's packages"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "ensure-infra: $1 is missing; install $2 (apt-get install -y $2) or point the *_URL variables at running servers" >&2; return 1
  fi
}

if ! port_open $PG_PORT; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then need_pkg psql postgresql; fi
  echo "ensure-infra: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_port $PG_PORT PostgreSQL
fi

if ! port_open $REDIS_PORT; then
  need_pkg redis-server redis-server
  echo "ensure-infra: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port $REDIS_PORT Redis
fi

if ! port_open $NATS_PORT; then
  [ -x /usr/sbin/nats-server ] || need_pkg nats-server nats-server
  echo "ensure-infra: starting NATS with JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p $NATS_PORT -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port $NATS_PORT NATS
fi

# PostgreSQL may accept TCP a moment before it accepts queries.
for _ in $(seq 1 60); do pg_isready -q -h $PG_HOST -p $PG_PORT && break; sleep 0.5; done

# Steward's default URLs log in as postgres/postgres over TCP. A fresh Debian cluster asks for a password the
# postgres role does not have yet: give it one (only when we are root on that machine and login fails).
ADMIN_URL="postgresql://postgres:postgres@$PG_HOST:$PG_PORT/postgres"
if ! psql -Atq "$ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    echo "ensure-infra: setting the postgres role's password to 'postgres' for local TCP logins"
    su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null
  fi
  psql -Atq "$ADMIN_URL" -c 'SELECT 1' >/dev/null || { echo "ensure-infra: cannot log in to PostgreSQL as postgres/postgres on $PG_HOST:$PG_PORT" >&2; exit 1; }
fi
# The databases the stack (steward) and the tests (test) use by default.
for db in steward test; do
  psql -Atq "$ADMIN_URL" -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || psql -q "$ADMIN_URL" -c "CREATE DATABASE $db"
done
echo "ensure-infra: PostgreSQL, Redis and NATS are up"
