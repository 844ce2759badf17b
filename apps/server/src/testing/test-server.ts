import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { copyMigratedPgliteTemplate } from '@modelfleet/db/testing';
import { pino } from 'pino';
import { buildServer } from '../build.js';
import { loadConfig, type ServerConfig } from '../config.js';
import { createServices, type ServerServices } from '../create-services.js';
import { generateApiKey } from '../auth/api-keys.js';

export interface TestServer {
  app: FastifyInstance;
  services: ServerServices;
  config: ServerConfig;
  /** An admin API key, registered at start-up. */
  adminKey: string;
  dataDir: string;
  /** Authorization header for a key. */
  auth(key?: string): { authorization: string };
  close(): Promise<void>;
}

/**
 * A real server (PGlite, in-process jobs and a blob store in a fresh data folder, or PostgreSQL/Redis
 * when the environment given says so) for `inject()` tests: the same services the process uses.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-server-'));
  const adminKey = generateApiKey().key;
  const config = loadConfig({
    MODELFLEET_DATA_DIR: dataDir,
    MODELFLEET_ADMIN_KEY: adminKey,
    LOG_LEVEL: 'silent',
    ...env,
  });
  // A migrated PGlite copied from the shared template instead of a fresh initdb per test file.
  if (config.database === 'pglite') await copyMigratedPgliteTemplate(path.join(dataDir, 'pgdata'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const services = await createServices(config, logger);
  const app = await buildServer({ services, logger, bodyLimitBytes: config.bodyLimitBytes });
  return {
    app,
    services,
    config,
    adminKey,
    dataDir,
    auth: (key = adminKey) => ({ authorization: `Bearer ${key}` }),
    async close() {
      await app.close();
      await services.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
