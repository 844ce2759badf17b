import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hashApiKey, isWellFormedApiKey, scopesGrant, type ApiKeyScope } from './api-keys.js';
import { CredentialInvalid, CredentialMissing, RateLimited, ScopeMissing, WrongCredentialKind } from './errors.js';
import type { RouteAccess } from './access.js';
import { createRateLimiter } from './rate-limit.js';
import { isWellFormedFleetToken } from '../devices/tokens.js';
import type { DevicePrincipal } from '../devices/principal.js';

export interface PersonPrincipal {
  kind: 'person';
  apiKeyId: string;
  prefix: string;
  scopes: ApiKeyScope[];
}

/** One registered route and who may call it. */
export interface RouteAccessEntry {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    person: PersonPrincipal | null;
    device: DevicePrincipal | null;
  }
  interface FastifyInstance {
    /** Every route registered after the auth plugin with its access (the authorisation matrix test walks it). */
    routeAccess: readonly RouteAccessEntry[];
  }
}

/**
 * The address a request came from, for per-address limits: the socket's, or — behind `trustedProxyHops`
 * proxies that each append to X-Forwarded-For — the entry the nearest trusted proxy saw. Entries further
 * left are written by the client and not trusted.
 */
export function clientAddress(request: FastifyRequest, trustedProxyHops: number): string {
  if (trustedProxyHops === 0) return request.ip;
  const header = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return hops[hops.length - trustedProxyHops] ?? request.ip;
}

/** The bearer credential of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authentication and authorisation for every route, driven by each route's `config.access`.
 * People send `Authorization: Bearer mfk_…` (API keys); devices have their own tokens (device routes).
 */
export const authPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.decorateRequest('person', null);
    fastify.decorateRequest('device', null);
    const routeAccess: RouteAccessEntry[] = [];
    fastify.decorate('routeAccess', routeAccess);

    // Per process, in memory (see rate-limit.ts). A minute's window: a device polls about once a minute.
    const limits = fastify.services.limits.requests;
    const perDevice = createRateLimiter({ limit: limits.devicePerMinute, windowMs: 60_000 });
    const failuresPerAddress = createRateLimiter({ limit: limits.authFailuresPerMinute, windowMs: 60_000 });
    const tooMany = (what: string, limiter: ReturnType<typeof createRateLimiter>, reply: FastifyReply) => {
      const seconds = String(Math.max(1, Math.ceil(limiter.retryAfterMs() / 1000)));
      reply.header('retry-after', seconds);
      return new RateLimited(what, seconds);
    };

    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routeAccess.push({ method: String(method), url: route.url, access: route.config?.access });
      }
      // Routes the framework's own plugins add (OpenAPI UI and JSON) are public documentation.
      if (route.config?.access === undefined && !route.url.startsWith('/docs')) {
        throw new Error(`route ${String(route.method)} ${route.url} declares no config.access`);
      }
      const access = route.config?.access;
      if (access?.kind === 'person') {
        route.schema = { ...route.schema, security: [{ apiKey: [] }] };
        route.schema.description = [route.schema.description, `Needs an API key with the \`${access.scope}\` scope.`]
          .filter(Boolean)
          .join('\n\n');
      } else if (access?.kind === 'device') {
        route.schema = { ...route.schema, security: [{ deviceToken: [] }] };
      }
    });

    // Every refused credential counts against the client's address: a guessed token or key costs a
    // database query when it misses the caches, so guessing is throttled before it reaches the database.
    fastify.addHook('onResponse', (request, reply, done) => {
      if (reply.statusCode === 401) failuresPerAddress.hit(clientAddress(request, limits.trustedProxyHops));
      done();
    });

    fastify.addHook('onRequest', async (request, reply) => {
      const access = request.routeOptions.config.access;
      const presentsCredential = request.headers.authorization !== undefined;
      if (
        (access?.kind === 'person' || access?.kind === 'device' || presentsCredential) &&
        failuresPerAddress.blocked(clientAddress(request, limits.trustedProxyHops))
      ) {
        throw tooMany('refused credentials from this address', failuresPerAddress, reply);
      }
      if (access === undefined || access.kind === 'public') return;
      const token = bearerToken(request);
      if (access.kind === 'person') {
        if (token === undefined) throw new CredentialMissing('an API key (Authorization: Bearer mfk_…)');
        if (!isWellFormedApiKey(token)) {
          if (token.startsWith('mfd_')) throw new WrongCredentialKind('people (API keys)', 'devices');
          throw new CredentialInvalid();
        }
        const key = await fastify.services.db.prisma.apiKey.findUnique({ where: { hash: hashApiKey(token) } });
        if (key === null || key.revokedAt !== null) throw new CredentialInvalid();
        if (!scopesGrant(key.scopes, access.scope)) throw new ScopeMissing(access.scope);
        request.person = { kind: 'person', apiKeyId: key.id, prefix: key.prefix, scopes: key.scopes };
        return;
      }
      // A device route: a person's key is never a device token.
      if (token === undefined) throw new CredentialMissing('a device token (Authorization: Bearer mfd_…)');
      if (isWellFormedApiKey(token)) throw new WrongCredentialKind('devices', 'people (API keys)');
      if (!isWellFormedFleetToken('mfd', token)) throw new CredentialInvalid();
      // Cached (see devices/device-auth.ts): a device that polled a moment ago costs no query.
      const device = await fastify.services.devices.auth.authenticate(token);
      if (device === null) throw new CredentialInvalid();
      if (!perDevice.hit(device.id)) throw tooMany('requests from this device', perDevice, reply);
      request.device = device;
      fastify.services.devices.lastSeen.seen(device.id);
    });
  },
  { name: 'modelfleet-auth' },
);
