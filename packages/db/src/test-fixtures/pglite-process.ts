/**
 * A process that owns an embedded database the way the server does, for pglite-shutdown.test.ts.
 *   tsx pglite-process.ts <dataDir> run      open, migrate, write a row, close, end
 *   tsx pglite-process.ts <dataDir> serve    open, migrate, write a row, print "ready", close on SIGTERM
 * It never calls process.exit: the exit code shows whether anything keeps the process alive or
 * PGlite ends it abnormally.
 */
import { createDatabase } from '../database.js';
import { migrate } from '../migrations/migrate.js';

const [dataDir, mode] = process.argv.slice(2);
if (dataDir === undefined || (mode !== 'run' && mode !== 'serve')) throw new Error('usage: <dataDir> run|serve');

const db = await createDatabase({ kind: 'pglite', dataDir });
await migrate(db);
await db.prisma.modelLine.create({ data: { name: `line-${process.pid}`, preprocessing: {}, policy: {} } });

if (mode === 'run') {
  await db.close();
} else {
  // Two handlers closing at once, as when a server's shutdown path and a signal handler overlap.
  process.once('SIGTERM', () => void db.close());
  process.once('SIGTERM', () => void db.close());
  // Keep the event loop alive like a listening server would, until the database is closed.
  const keepAlive = setInterval(() => {}, 1 << 30);
  process.once('SIGTERM', () => clearInterval(keepAlive));
  process.stdout.write('ready\n');
}
