import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestLimits } from '../config.js';
import { JsonTooDeep } from './errors.js';

/**
 * True when `value` nests arrays/objects deeper than `maxDepth` (a scalar is depth 0, `{}` depth 1).
 * Iterative: a hostile body must not be able to overflow the stack of the check meant to stop it.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Limits every request shares: connection and request timeouts on the HTTP server, a small body limit on
 * device routes (their bodies are reports of a few hundred bytes; a leaked device token must not let
 * anyone make the server buffer megabytes), and a bound on JSON nesting. JSON.parse itself is iterative
 * in V8, but serialisers, validators and signers downstream recurse.
 */
export const requestLimits = fp(
  async (fastify: FastifyInstance, options: { limits: RequestLimits }) => {
    const { limits } = options;
    fastify.server.requestTimeout = limits.requestTimeoutMs;
    fastify.server.headersTimeout =
      limits.requestTimeoutMs > 0
        ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
        : limits.headersTimeoutMs;
    fastify.server.setTimeout(limits.connectionIdleTimeoutMs);

    fastify.addHook('onRoute', (route) => {
      if (route.config?.access?.kind === 'device' && route.bodyLimit === undefined) {
        route.bodyLimit = limits.deviceBodyBytes;
      }
    });

    fastify.addHook('preValidation', (request, _reply, done) => {
      const { body } = request;
      const tooDeep =
        body !== null &&
        typeof body === 'object' &&
        !Buffer.isBuffer(body) &&
        nestedDeeperThan(body, limits.jsonMaxDepth);
      done(tooDeep ? new JsonTooDeep(String(limits.jsonMaxDepth)) : undefined);
    });
  },
  { name: 'modelfleet-request-limits' },
);
