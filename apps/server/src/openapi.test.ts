import Fastify, { type FastifyInstance, type HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from './app.js';
import { startTestServer, type TestServer } from './testing/test-server.js';

interface Operation {
  parameters?: { in: string; name: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
  tags?: string[];
}
type Spec = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  tags: { name: string; description: string }[];
};

interface RegisteredRoute {
  method: string;
  url: string;
  access: { kind: string } | undefined;
  schema:
    | {
        params?: unknown;
        querystring?: unknown;
        body?: unknown;
        response?: Record<string, unknown>;
        consumes?: readonly string[];
      }
    | undefined;
}

/** `/v1/models/:line` as OpenAPI writes it: `/v1/models/{line}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI at /docs', () => {
  let server: TestServer;
  /** The same app, built with an onRoute hook in front that records every route it registers. */
  let recorded: FastifyInstance;
  const routes: RegisteredRoute[] = [];
  let spec: Spec;

  beforeAll(async () => {
    server = await startTestServer();
    recorded = Fastify({ logger: false });
    recorded.addHook('onRoute', (route) => {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
      for (const method of methods)
        routes.push({
          method,
          url: route.url,
          access: route.config?.access,
          schema: route.schema as RegisteredRoute['schema'],
        });
    });
    await recorded.register(app, { services: server.services, version: '0.0.0-test' });
    await recorded.ready();
    const response = await server.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    spec = response.json<Spec>();
  }, 60_000);
  afterAll(async () => {
    await recorded?.close();
    await server?.close();
  });

  /** The app's own routes: not the documentation UI's, not the HEAD twins Fastify adds for GETs. */
  const ownRoutes = () => routes.filter((route) => route.method !== 'HEAD' && !route.url.startsWith('/docs'));

  it('is OpenAPI 3.1 and documents every route the app registers, and nothing else', () => {
    expect(spec.openapi).toBe('3.1.0');
    const registered = [
      ...new Set(ownRoutes().map((route) => `${route.method.toLowerCase()} ${openApiPath(route.url)}`)),
    ].sort();
    const documented = Object.entries(spec.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort();
    // The routes issue 4 names must be among them (guards against both lists being empty or partial).
    expect(registered).toEqual(
      expect.arrayContaining([
        'get /healthz',
        'get /readyz',
        'get /v1/keys',
        'post /v1/api-keys',
        'delete /v1/api-keys/{id}',
        'post /v1/models',
        'get /v1/models',
        'get /v1/models/{line}',
        'post /v1/models/{line}/datasets',
        'get /v1/models/{line}/datasets',
        'delete /v1/models/{line}/datasets/{id}',
        'post /v1/models/{line}/versions',
        'get /v1/models/{line}/versions/{version}',
        'post /v1/models/{line}/releases',
        'get /v1/models/{line}/releases',
      ]),
    );
    expect(documented).toEqual(registered);
  });

  it('files every route under a tag that the document declares and describes', () => {
    const declared = new Set(spec.tags.map((tag) => tag.name));
    const untagged: string[] = [];
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths))
      for (const [method, operation] of Object.entries(operations)) {
        if ((operation.tags ?? []).length === 0) untagged.push(`${method} ${path}`);
        for (const tag of operation.tags ?? []) if (!declared.has(tag)) undeclared.push(`${method} ${path}: ${tag}`);
      }
    expect(untagged).toEqual([]);
    expect(undeclared).toEqual([]);
    expect(spec.tags.every((tag) => tag.description.length > 0)).toBe(true);
  });

  it('gives every /v1 route its request schemas and a response schema for its success status', () => {
    const problems: string[] = [];
    for (const route of ownRoutes().filter((r) => r.url.startsWith('/v1'))) {
      const name = `${route.method} ${route.url}`;
      const operation = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      if (operation === undefined) {
        problems.push(`${name}: not documented`);
        continue;
      }
      const parameters = operation.parameters ?? [];
      for (const param of route.url.match(/:[A-Za-z0-9_]+/g) ?? []) {
        const documented = parameters.find((p) => p.in === 'path' && p.name === param.slice(1));
        if (documented?.schema === undefined) problems.push(`${name}: path parameter ${param} has no schema`);
      }
      if (
        route.schema?.querystring !== undefined &&
        !parameters.some((p) => p.in === 'query' && p.schema !== undefined)
      ) {
        problems.push(`${name}: query schema not documented`);
      }
      if (['POST', 'PUT', 'PATCH'].includes(route.method)) {
        const content = operation.requestBody?.content ?? {};
        const bodies = Object.values(content).filter((media) => media.schema !== undefined);
        if (bodies.length === 0) problems.push(`${name}: request body has no schema`);
        if (route.schema?.consumes?.includes('multipart/form-data') && content['multipart/form-data'] === undefined) {
          problems.push(`${name}: multipart form not documented as multipart/form-data`);
        }
      }
      const successes = Object.keys(route.schema?.response ?? {}).filter((status) => /^2\d\d$/.test(status));
      if (successes.length === 0) problems.push(`${name}: no success response schema`);
      for (const status of successes) {
        const response = operation.responses[status];
        if (response === undefined) problems.push(`${name}: response ${status} not documented`);
        // 204 has no body by definition; every other success answers a documented body.
        else if (
          status !== '204' &&
          !Object.values(response.content ?? {}).some((media) => media.schema !== undefined)
        ) {
          problems.push(`${name}: response ${status} has no schema`);
        }
      }
      // Routes for people say so in the document (the API key scheme); /v1/keys is public on purpose (devices read it).
      if (route.access?.kind === 'person' && operation.security === undefined)
        problems.push(`${name}: needs a key but documents no security`);
    }
    expect(problems).toEqual([]);
  });

  it('documents the multipart forms of the upload routes field by field', () => {
    const form = (path: string) =>
      spec.paths[path]?.post?.requestBody?.content['multipart/form-data']?.schema as
        { properties?: Record<string, unknown> } | undefined;
    expect(Object.keys(form('/v1/models/{line}/datasets')?.properties ?? {})).toEqual(
      expect.arrayContaining(['role', 'file']),
    );
    expect(Object.keys(form('/v1/models/{line}/versions')?.properties ?? {})).toEqual(
      expect.arrayContaining(['model.json', 'archive']),
    );
  });

  it('serves the browsable documentation as HTML at /docs', async () => {
    let response = await server.app.inject({ method: 'GET', url: '/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      response = await server.app.inject({ method: 'GET', url: String(response.headers.location) });
    }
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/swagger/i);
  });
});
