#!/usr/bin/env bash
# Restores a backup made by scripts/db-backup.sh into a target database, then checks it.
#
# usage: scripts/db-restore.sh [--clean] [--skip-checksum] FILE TARGET_DATABASE_URL
#   FILE                  the dump; FILE.sha256 and FILE.manifest.json are read from beside it
#   TARGET_DATABASE_URL   postgresql://user:password@host:port/database; the database is created when missing
#   --clean               replace what the target already holds (drops the dumped objects first); without it a
#                         target that already has tables in the dumped schema(s) is refused
#   --skip-checksum       restore even without FILE.sha256 (a mismatching checksum is always refused)
#
# In order: checks the checksum, creates the database if needed (connecting to the server's `postgres` database),
# restores in one transaction with pg_restore (--no-owner --no-acl: objects belong to the target's user; nothing is
# half-restored on error), then compares every table's row count with the manifest. A schema-only backup (-s) comes
# back under the same schema name: point the services at it with DATABASE_SCHEMA. Stop the services that use the
# target first; run the migrations after restoring an older backup (pnpm migrate).
set -euo pipefail

die() { echo "db-restore: $*" >&2; exit 1; }
usage() { sed -n '/^# usage:/,/^#   --skip-checksum/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

clean=false
skip_checksum=false
positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --clean) clean=true ;;
    --skip-checksum) skip_checksum=true ;;
    -h | --help) usage ;;
    -*) echo "db-restore: unknown option $1" >&2; usage ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[ ${#positional[@]} -eq 2 ] || usage
file=${positional[0]}
url=${positional[1]}

for tool in pg_restore psql sha256sum; do command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install postgresql-client)"; done
[ -f "$file" ] || die "no such backup: $file"
[[ $url =~ ^(postgres(ql)?://[^/]*/)([A-Za-z0-9_-]+)(\?.*)?$ ]] || die 'TARGET_DATABASE_URL must be postgresql://user:password@host:port/database'
database=${BASH_REMATCH[3]}
admin_url="${BASH_REMATCH[1]}postgres${BASH_REMATCH[4]}"
redacted=$(sed -E 's#://([^:@/]*)(:[^@/]*)?@#://\1@#' <<<"$url")

# 1. The checksum.
if [ -f "$file.sha256" ]; then
  expected=$(cut -d' ' -f1 <"$file.sha256")
  actual=$(sha256sum "$file" | cut -d' ' -f1)
  [ "$expected" = "$actual" ] || die "checksum mismatch for $file: expected $expected (from $file.sha256), got $actual; the file is damaged or not the one backed up"
elif ! $skip_checksum; then
  die "$file.sha256 is missing; pass --skip-checksum to restore without checking"
fi
pg_restore --list "$file" >/dev/null 2>&1 || die "$file is not a pg_dump custom-format archive"
manifest=''
if [ -f "$file.manifest.json" ]; then manifest=$(cat "$file.manifest.json"); else echo "db-restore: no $file.manifest.json; row counts will not be checked" >&2; fi

psql_() { psql -X -q -At -w -v ON_ERROR_STOP=1 "$@"; }

# 2. The target database: created when missing, refused when it already holds tables (unless --clean).
err=$(psql_ "$admin_url" -c 'SELECT 1' 2>&1 >/dev/null) || die "cannot connect to the server of $redacted: $err"
if [ "$(psql_ "$admin_url" -v db="$database" <<<"SELECT count(*) FROM pg_database WHERE datname = :'db';")" = 0 ]; then
  psql_ "$admin_url" -v db="$database" <<<'CREATE DATABASE :"db";' || die "could not create database $database"
  echo "db-restore: created database $database"
fi
schema=''
[ -z "$manifest" ] || schema=$(psql_ "$url" -v m="$manifest" <<<"SELECT COALESCE(:'m'::jsonb ->> 'schema', '');") || die 'the manifest is not valid JSON'
existing=$(psql_ "$url" -v s="$schema" <<'SQL'
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND CASE WHEN :'s' <> '' THEN n.nspname = :'s' ELSE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' END;
SQL
)
if [ "$existing" != 0 ] && ! $clean; then
  die "database $database already has $existing tables${schema:+ in schema $schema}; pass --clean to replace them, or restore into a new database"
fi

# 3. The restore, all or nothing.
args=(--dbname="$url" --exit-on-error --single-transaction --no-owner --no-acl --no-password)
! $clean || args+=(--clean --if-exists)
err=$(pg_restore "${args[@]}" "$file" 2>&1) || die "pg_restore failed (nothing was restored): $err"

# 4. Every table's row count against the manifest.
if [ -n "$manifest" ]; then
  mismatches=$(psql_ "$url" -v m="$manifest" <<'SQL'
WITH expected AS (
  SELECT key AS name, value::text::bigint AS n, split_part(key, '.', 1) AS s, substr(key, strpos(key, '.') + 1) AS t
  FROM jsonb_each(:'m'::jsonb -> 'tables')
)
SELECT format('%s: %s rows in the backup, %s restored', name, n, COALESCE(actual::text, 'no table'))
FROM expected, LATERAL (
  SELECT CASE WHEN to_regclass(format('%I.%I', s, t)) IS NULL THEN NULL
    ELSE (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', s, t), false, true, '')))[1]::text::bigint END AS actual
) a
WHERE actual IS DISTINCT FROM n
ORDER BY name;
SQL
  )
  [ -z "$mismatches" ] || die "restored, but the row counts differ from the manifest:
$mismatches"
  summary=$(psql_ "$url" -v m="$manifest" <<<"SELECT format('%s tables, %s rows, as in the manifest', count(*), COALESCE(sum(value::text::bigint), 0)) FROM jsonb_each(:'m'::jsonb -> 'tables');")
else
  summary='row counts not checked'
fi
echo "db-restore: $file → $redacted${schema:+ (schema $schema)}: $summary"
