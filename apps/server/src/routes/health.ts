import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { PUBLIC } from '../auth/access.js';
import { HealthResponse, ReadinessResponse, type DependencyCheck } from '@modelfleet/contracts';

/** How long one dependency may take to answer before /readyz calls it down. */
const PROBE_TIMEOUT_MS = 2_000;

class ProbeTimeout extends Error {}

/**
 * One dependency's check. /readyz is public (load balancers call it without a key), so the answer says
 * only whether the dependency timed out or failed; what it said (host names, addresses, paths) goes to
 * the server's log.
 */
async function check(
  probe: { name: string; driver: string; ping(): Promise<void> },
  log: FastifyBaseLogger,
): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProbeTimeout()), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, driver: probe.driver, latencyMs: performance.now() - started };
  } catch (error) {
    const timedOut = error instanceof ProbeTimeout;
    log.warn({ probe: probe.name, driver: probe.driver, err: error }, 'readiness probe failed');
    return {
      ok: false,
      driver: probe.driver,
      latencyMs: performance.now() - started,
      error: timedOut ? `no answer within ${PROBE_TIMEOUT_MS} ms` : 'unreachable (the server log has the cause)',
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
        fastify.services.probes.map(async (probe) => [probe.name, await check(probe, request.log)] as const),
      );
      const checks = Object.fromEntries(results) as Record<'database' | 'queue' | 'blobs', DependencyCheck>;
      const ready = results.length === 3 && results.every(([, result]) => result.ok);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
    },
  );
};
