import { defineConfig } from 'prisma/config';

// Prisma 7 reads its settings from here, not from schema.prisma. The schema and migrations live at
// the repository root (prisma/), the single source of the data model; the datasource URL is not
// needed by `generate`, and migrations are applied by our own runner (src/migrate.ts), not the CLI.
export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
});
