import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { createKey, DEMO_PREPROCESSING, rowCounts } from '../testing/api.js';
import { generateApiKey, hashApiKey } from './api-keys.js';

describe('API keys and scopes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const lineBody = (name: string) => ({ name, preprocessing: DEMO_PREPROCESSING });

  it('refuses a request without a key: 401 MF_ERR_CREDENTIAL_MISSING', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ statusCode: 401, code: 'MF_ERR_CREDENTIAL_MISSING' });
  });

  it('refuses a malformed key and a well-formed unknown key: 401 MF_ERR_CREDENTIAL_INVALID', async () => {
    for (const authorization of ['Bearer not-a-key', `Bearer ${server.adminKey}x`, `Bearer ${generateApiKey().key}`]) {
      const response = await server.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
      expect(response.json().code, authorization).toBe('MF_ERR_CREDENTIAL_INVALID');
    }
  });

  it('refuses a read key on POST /v1/models with 403 MF_ERR_SCOPE_MISSING and creates no line', async () => {
    const readKey = await createKey(server, ['read']);
    const before = await rowCounts(server);
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/models',
      headers: server.auth(readKey),
      payload: lineBody('auth-read-refused'),
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'MF_ERR_SCOPE_MISSING' });
    expect(await rowCounts(server)).toEqual(before);
    expect(await server.services.db.prisma.modelLine.findUnique({ where: { name: 'auth-read-refused' } })).toBeNull();
    // The same key reads.
    const list = await server.app.inject({ method: 'GET', url: '/v1/models', headers: server.auth(readKey) });
    expect(list.statusCode).toBe(200);
  });

  it('lets only admin keys create keys', async () => {
    for (const scopes of [['read'], ['upload'], ['publish'], ['upload', 'publish']]) {
      const key = await createKey(server, scopes);
      const before = await rowCounts(server);
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: server.auth(key),
        payload: { name: 'escalation', scopes: ['admin'] },
      });
      expect(response.statusCode, scopes.join('+')).toBe(403);
      expect(response.json().code).toBe('MF_ERR_SCOPE_MISSING');
      expect((await rowCounts(server)).apiKeys).toBe(before.apiKeys);
    }
  });

  it('shows a created key once, stores only its hash, and the key works with exactly its scopes', async () => {
    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: server.auth(),
      payload: { name: 'ci uploader', scopes: ['upload'] },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{
      id: string;
      key: string;
      prefix: string;
      scopes: string[];
      revokedAt: string | null;
    }>();
    expect(body.key).toMatch(/^mfk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({ scopes: ['upload'], revokedAt: null, prefix: body.key.slice(4, 12) });

    // Never again: the list names the key by prefix only, and the database holds its hash, not the secret.
    const list = await server.app.inject({ method: 'GET', url: '/v1/api-keys', headers: server.auth() });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(body.key);
    expect(list.json().items.find((item: { id: string }) => item.id === body.id)).toMatchObject({
      name: 'ci uploader',
      prefix: body.prefix,
    });
    expect(list.json().items.every((item: object) => !('key' in item))).toBe(true);
    const row = await server.services.db.prisma.apiKey.findUniqueOrThrow({ where: { id: body.id } });
    expect(row.hash).toBe(hashApiKey(body.key));
    expect(JSON.stringify(row)).not.toContain(body.key);

    const whoami = await server.app.inject({ method: 'GET', url: '/v1/whoami', headers: server.auth(body.key) });
    expect(whoami.statusCode).toBe(200);
    expect(whoami.json()).toEqual({ kind: 'person', prefix: body.prefix, scopes: ['upload'] });

    const line = await server.app.inject({
      method: 'POST',
      url: '/v1/models',
      headers: server.auth(body.key),
      payload: lineBody('auth-uploader'),
    });
    expect(line.statusCode).toBe(201);
    // upload does not grant publish or admin.
    const publish = await server.app.inject({
      method: 'POST',
      url: '/v1/models/auth-uploader/releases',
      headers: server.auth(body.key),
      payload: { version: '01a228ea-47ce-772c-a9d4-42b5d74e0252' },
    });
    expect(publish.statusCode).toBe(403);
    expect(publish.json().code).toBe('MF_ERR_SCOPE_MISSING');
    const keys = await server.app.inject({ method: 'GET', url: '/v1/api-keys', headers: server.auth(body.key) });
    expect(keys.statusCode).toBe(403);
  });

  it('refuses a revoked key with 401, and revoking twice is 404', async () => {
    const key = await createKey(server, ['read'], 'to revoke');
    const items = (await server.app.inject({ method: 'GET', url: '/v1/api-keys', headers: server.auth() })).json()
      .items as { id: string; name: string }[];
    const id = items.find((item) => item.name === 'to revoke')!.id;
    expect((await server.app.inject({ method: 'GET', url: '/v1/models', headers: server.auth(key) })).statusCode).toBe(
      200,
    );

    const revoked = await server.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: server.auth() });
    expect(revoked.statusCode).toBe(204);
    const after = await server.app.inject({ method: 'GET', url: '/v1/models', headers: server.auth(key) });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('MF_ERR_CREDENTIAL_INVALID');
    const listed = (await server.app.inject({ method: 'GET', url: '/v1/api-keys', headers: server.auth() })).json()
      .items as { id: string; revokedAt: string | null }[];
    expect(listed.find((item) => item.id === id)?.revokedAt).toEqual(expect.any(String));

    const again = await server.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: server.auth() });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('MF_ERR_API_KEY_NOT_FOUND');
  });

  it('asks for an API key on every documented route that needs one (401 without, before anything else happens)', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
    }>();
    const uuid = '01a228ea-0000-7000-8000-000000000000';
    const guarded = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation.security?.some((requirement) => 'apiKey' in requirement) === true)
        .map(([method]) => ({
          method: method.toUpperCase(),
          url: path.replace('{line}', 'no-such-line').replace(/\{[a-z]+\}/g, uuid),
        })),
    );
    expect(guarded.length).toBeGreaterThanOrEqual(14);
    const before = await rowCounts(server);
    for (const { method, url } of guarded) {
      const response = await server.app.inject({
        method: method as 'GET',
        url,
        payload: method === 'GET' || method === 'DELETE' ? undefined : {},
      });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
      expect(response.json().code, `${method} ${url}`).toBe('MF_ERR_CREDENTIAL_MISSING');
    }
    expect(await rowCounts(server)).toEqual(before);
  });
});
