/**
 * Applies pending migrations to the database the environment names, then exits: for operators who
 * migrate before rolling out servers (the server also migrates at start-up; both are safe at once).
 *
 *   DATABASE_URL=postgresql://… npm run migrate -w @modelfleet/db
 *   MODELFLEET_DATA_DIR=./.modelfleet npm run migrate -w @modelfleet/db      (PGlite)
 */
import { resolve } from 'node:path';
import { createDatabase, databaseConfigFromSettings, migrate } from '../src/index.js';

const config = databaseConfigFromSettings({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: resolve(process.env.INIT_CWD ?? process.cwd(), process.env.MODELFLEET_DATA_DIR ?? '.modelfleet'),
});
const db = await createDatabase(config);
try {
  const result = await migrate(db);
  console.log(
    result.applied.length === 0
      ? `${config.kind}: up to date (${result.alreadyApplied.length} migrations applied earlier)`
      : `${config.kind}: applied ${result.applied.join(', ')}`,
  );
} finally {
  await db.close();
}
