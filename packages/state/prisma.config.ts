// Prisma 7 CLI config: the schema and migrations live under prisma/; the URL is only needed by migrate/db commands.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env['DATABASE_URL'] },
});
