#!/bin/sh
# Stand-in for Prisma's native schema engine: `prisma generate|validate|format` only need the path to exist.
# Migration commands that really need the engine fail loudly instead of trying to download it.
echo "no native schema engine here (offline); use scripts/new-migration.ts and src/cli/migrate.ts" >&2
exit 1
