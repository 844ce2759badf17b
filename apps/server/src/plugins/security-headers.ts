import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * A policy for pages that set none of their own: the OpenAPI UI at /docs loads its scripts and styles
 * from this server. The dashboard sets its own (stricter) policy, which is left as it is.
 */
const HTML_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** JSON and bytes are never rendered as a page: nothing may load, and nothing may frame it. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Security headers on every response (errors and 404s included): no MIME sniffing, no framing, no
 * referrer leaking URLs (they carry line and release names), and no banner naming the server software.
 */
export const securityHeaders = fp(
  async (fastify: FastifyInstance) => {
    // A callback hook, not an async one: it runs on every answer, the 304 of a poll included.
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-resource-policy', 'same-origin');
      if (!reply.hasHeader('content-security-policy')) {
        const type = String(reply.getHeader('content-type') ?? '');
        reply.header('content-security-policy', type.startsWith('text/html') ? HTML_CSP : API_CSP);
      }
      reply.removeHeader('server');
      reply.removeHeader('x-powered-by');
      done(null, payload);
    });
  },
  { name: 'modelfleet-security-headers' },
);
