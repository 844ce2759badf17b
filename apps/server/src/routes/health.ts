import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC } from '../auth/access.js';
import { HealthResponse, ReadinessResponse, type DependencyCheck } from '@modelfleet/contracts';

/** How long one dependency may take to answer before /readyz calls it down. */
const PROBE_TIMEOUT_MS = 2_000;

async function check(probe: { driver: string; ping(): Promise<void> }): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, driver: probe.driver, latencyMs: performance.now() - started };
  } catch (error) {
    return {
      ok: false,
      driver: probe.driver,
      latencyMs: performance.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/healthz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        response: { 200: HealthResponse },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  fastify.get(
    '/readyz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database, the job queue and the blob store are reachable',
        response: { 200: ReadinessResponse, 503: ReadinessResponse },
      },
    },
    async (request, reply) => {
      const results = await Promise.all(
        fastify.services.probes.map(async (probe) => [probe.name, await check(probe)] as const),
      );
      const checks = Object.fromEntries(results) as Record<'database' | 'queue' | 'blobs', DependencyCheck>;
      const ready = results.length === 3 && results.every(([, result]) => result.ok);
      if (!ready) request.log.warn({ checks }, 'not ready');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
    },
  );
};
