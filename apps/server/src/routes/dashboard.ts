import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@modelfleet/contracts';
import { PUBLIC } from '../auth/access.js';
import { DashboardFileNotFound } from '../dashboard/errors.js';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboard', 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The dashboard's policy: scripts, styles and data only from this server, no inline script or style
 * elements, nothing framed, no plugins, no forms posted anywhere. (The page sets element styles through
 * the CSSOM and draws its charts as SVG elements, both of which this policy allows.)
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The static files, read once at start: a handful of small files, served from memory. */
function loadFiles(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[path.extname(name)];
    if (type !== undefined) files.set(name, { body: readFileSync(path.join(PUBLIC_DIR, name)), type });
  }
  return files;
}

/**
 * GET /dashboard/: the operators' page (HTML, JS modules, CSS; no build step, nothing from the internet).
 * The files are public — they hold no data; every piece of data is fetched from the REST API with the
 * operator's key.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const files = loadFiles();
  const send = (name: string) => {
    const file = files.get(name);
    if (file === undefined) throw new DashboardFileNotFound(name);
    return file;
  };

  fastify.get(
    '/dashboard',
    {
      config: { access: PUBLIC },
      schema: { tags: ['dashboard'], summary: 'The dashboard (redirects to /dashboard/)' },
    },
    async (_request, reply) => reply.redirect('/dashboard/', 302),
  );

  const serve = (name: string, reply: FastifyReply) => {
    const file = send(name);
    return reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('cache-control', 'no-cache')
      .type(file.type)
      .send(file.body);
  };

  fastify.get(
    '/dashboard/',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['dashboard'],
        summary: 'The dashboard page (paste an API key with the read scope; actions need more)',
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => serve('index.html', reply),
  );

  fastify.get(
    '/dashboard/:file',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['dashboard'],
        summary: 'The dashboard page and its scripts and styles (no data: that needs an API key)',
        params: Type.Object({ file: Type.String({ pattern: '^[a-z0-9-]+\\.(html|js|css|svg)$' }) }),
        response: { 200: Type.String(), 404: ErrorResponse },
      },
    },
    async (request, reply) => serve(request.params.file, reply),
  );
};
