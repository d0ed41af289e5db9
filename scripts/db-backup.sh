#!/usr/bin/env bash
# Backs up Steward's PostgreSQL database while the services run (runs in flight included) with pg_dump's custom
# format. Writes three files:
#   FILE                  the dump (restore it with scripts/db-restore.sh)
#   FILE.sha256           its checksum, in `sha256sum -c` format
#   FILE.manifest.json    what was dumped: database, schema, server and pg_dump versions, applied migrations, and the
#                         row count of every table, all read in the same snapshot as the dump
#
# usage: scripts/db-backup.sh [-o FILE] [-s SCHEMA]
#   DATABASE_URL      the database to back up (required), e.g. postgresql://steward:…@db:5432/steward
#   -s / DATABASE_SCHEMA  back up only this schema (default: the whole database). Installations use `public`;
#                     the tests put each stack in its own schema of one database.
#   -o FILE           where to write the dump (default: backups/<database>-<UTC time>.dump)
#
# pg_dump, psql and sha256sum must be on PATH (Debian: postgresql-client, the same major version as the server or newer).
set -euo pipefail

die() { echo "db-backup: $*" >&2; exit 1; }
usage() { sed -n '/^# usage:/,/^# pg_dump/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

out=''
schema=${DATABASE_SCHEMA:-}
while getopts 'o:s:h' opt; do
  case $opt in
    o) out=$OPTARG ;;
    s) schema=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

for tool in pg_dump psql sha256sum; do command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install postgresql-client)"; done
url=${DATABASE_URL:-}
[ -n "$url" ] || die 'DATABASE_URL is not set'
[[ $url =~ ^postgres(ql)?://[^/]*/([A-Za-z0-9_-]+)(\?.*)?$ ]] || die 'DATABASE_URL must be postgresql://user:password@host:port/database'
database=${BASH_REMATCH[2]}
redacted=$(sed -E 's#://([^:@/]*)(:[^@/]*)?@#://\1@#' <<<"$url")
if [ -n "$schema" ] && ! [[ $schema =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then die "invalid schema name: $schema"; fi

psql_() { psql -X -q -At -w -v ON_ERROR_STOP=1 "$url" "$@"; }
err=$(psql_ -c 'SELECT 1' 2>&1 >/dev/null) || die "cannot connect to $redacted: $err"
if [ -n "$schema" ]; then
  [ "$(psql_ -c "SELECT count(*) FROM pg_namespace WHERE nspname = '$schema'")" = 1 ] || die "database $database has no schema $schema"
fi

if [ -z "$out" ]; then
  mkdir -p backups
  out="backups/$database-$(date -u +%Y%m%dT%H%M%SZ).dump"
fi
mkdir -p "$(dirname "$out")"
[ ! -e "$out" ] || die "$out exists; choose another -o"
tmp="$out.partial"
trap 'rm -f "$tmp"' EXIT

# One snapshot for everything: a transaction held open by a coprocess exports it; the row counts and pg_dump
# (--snapshot) both read the database as of that instant, so the manifest describes exactly what the dump holds.
coproc SNAP { psql -X -q -At -w -v ON_ERROR_STOP=1 "$url" 2>&1; }
# Bash unsets SNAP_PID (and SNAP) once it reaps the coprocess, which can happen before the wait below: keep our copy.
snap_pid=$SNAP_PID
snap_in=${SNAP[1]} snap_out=${SNAP[0]}
echo "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT pg_export_snapshot();" >&"$snap_in"
read -r -t 30 snapshot <&"$snap_out" || die 'could not export a snapshot'
[[ $snapshot =~ ^[0-9A-F-]+$ ]] || die "could not export a snapshot: $snapshot"

if [ -n "$schema" ]; then
  where="n.nspname = '$schema'"
  migrations="\"$schema\"._prisma_migrations"
else
  where="n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
  migrations='_prisma_migrations' # on the search_path, as the services use it
fi
# The manifest, less the file's checksum and size: the row count of every table and the migrations applied, in the snapshot.
manifest=$(psql_ <<SQL
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET TRANSACTION SNAPSHOT '$snapshot';
SELECT json_build_object(
  'format', 'steward-db-backup/1',
  'database', current_database(),
  'schema', NULLIF('$schema', ''),
  'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  'serverVersion', current_setting('server_version'),
  'migrations', CASE WHEN to_regclass('$migrations') IS NULL THEN '[]'::json ELSE (
    SELECT COALESCE(json_agg(m ORDER BY m), '[]') FROM (
      SELECT (xpath('/row/m/text()', r))[1]::text AS m
      FROM unnest(xpath('/table/row', query_to_xml('SELECT migration_name AS m FROM $migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL', false, false, ''))) AS r
    ) applied
  ) END,
  'tables', (
    SELECT COALESCE(json_object_agg(format('%s.%s', n.nspname, c.relname),
             (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint
             ORDER BY n.nspname, c.relname), '{}')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND $where
  )
);
COMMIT;
SQL
) || die 'could not read the row counts'

args=(--format=custom --snapshot="$snapshot" --file="$tmp" --no-password)
[ -z "$schema" ] || args+=(--schema="$schema")
err=$(pg_dump "${args[@]}" "$url" 2>&1) || die "pg_dump failed: $err"

echo 'COMMIT;' >&"$snap_in"
exec {snap_in}>&-
wait "$snap_pid" 2>/dev/null || true

mv "$tmp" "$out"
trap - EXIT
sum=$(sha256sum "$out" | cut -d' ' -f1)
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
bytes=$(wc -c <"$out" | tr -d ' ')
dumpver=$(pg_dump --version | sed -E 's/^pg_dump \(PostgreSQL\) //')
psql_ -v manifest="$manifest" -v file="$(basename "$out")" -v sha="$sum" -v bytes="$bytes" -v dumpver="$dumpver" >"$out.manifest.json" <<'SQL'
SELECT jsonb_pretty(:'manifest'::jsonb || jsonb_build_object('file', :'file', 'sha256', :'sha', 'bytes', :'bytes'::bigint, 'pgDumpVersion', :'dumpver'));
SQL
summary=$(psql_ -v manifest="$manifest" <<'SQL'
SELECT format('%s tables, %s rows', count(*), COALESCE(sum(value::text::bigint), 0)) FROM jsonb_each(:'manifest'::jsonb -> 'tables');
SQL
)
echo "db-backup: $redacted${schema:+ (schema $schema)} → $out ($bytes bytes, $summary, sha256 $sum)"
