import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hashApiKey, isWellFormedApiKey, scopesGrant, type ApiKeyScope } from './api-keys.js';
import { CredentialInvalid, CredentialMissing, ScopeMissing, WrongCredentialKind } from './errors.js';
import { isWellFormedFleetToken } from '../devices/tokens.js';
import type { DevicePrincipal } from '../devices/principal.js';

export interface PersonPrincipal {
  kind: 'person';
  apiKeyId: string;
  prefix: string;
  scopes: ApiKeyScope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    person: PersonPrincipal | null;
    device: DevicePrincipal | null;
  }
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

    fastify.addHook('onRoute', (route) => {
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

    fastify.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access;
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
      request.device = device;
      fastify.services.devices.lastSeen.seen(device.id);
    });
  },
  { name: 'modelfleet-auth' },
);
