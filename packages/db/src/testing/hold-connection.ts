import type { Database } from '../database.js';

/**
 * Takes one connection of the database's pool and keeps it until the returned function is called (which
 * resolves once it is back in the pool). With a pool of one connection, every other query then waits for
 * it: how tests make "every connection is in use" happen for real.
 */
export async function holdConnection(db: Database): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const isHeld = new Promise<void>((resolve) => (held = resolve));
  const session = db.driver.withSession(async () => {
    held();
    await released;
  });
  await isHeld;
  return async () => {
    release();
    await session;
  };
}
