import type { ApiKeyScope } from './api-keys.js';

/**
 * Who may call a route. Every route declares one in `config.access`; the server refuses to start with a
 * route that does not, so no route can be added without deciding who may call it (the authorisation
 * matrix test walks the same table).
 */
export type RouteAccess = { kind: 'public' } | { kind: 'person'; scope: ApiKeyScope } | { kind: 'device' };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export const PUBLIC: RouteAccess = { kind: 'public' };
export const person = (scope: ApiKeyScope): RouteAccess => ({ kind: 'person', scope });
