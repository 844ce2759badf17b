import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';

const PUBLIC_DIR = fileURLToPath(new URL('../dashboard/public/', import.meta.url));

describe('the dashboard files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(() => server.close());

  const get = (url: string) => server.app.inject({ method: 'GET', url });

  it('serves the page without a key, under a policy that allows no inline script and nothing from elsewhere', async () => {
    const redirect = await get('/dashboard');
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('/dashboard/');

    const page = await get('/dashboard/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    // Every script is a file of this server, no inline handlers or styles the policy would block.
    for (const script of page.body.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
      expect(script[0]).toMatch(/src="[a-z0-9-]+\.js"/);
      expect(script[1]!.trim()).toBe('');
    }
    expect(page.body).not.toMatch(/\son[a-z]+=/i);
    expect(page.body).not.toMatch(/\sstyle=/i);
  });

  it('serves every file the page and its modules reference, and none of them loads anything from the internet', async () => {
    const files = readdirSync(PUBLIC_DIR);
    for (const file of files) {
      const text = readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
      expect(text, file).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      for (const reference of text.matchAll(/(?:from |src=|href=)['"]\.?\/?([a-z0-9-]+\.(?:js|css))['"]/g)) {
        expect(files, `${file} references ${reference[1]}`).toContain(reference[1]);
      }
      const response = await get(`/dashboard/${file}`);
      expect(response.statusCode, file).toBe(200);
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      if (file.endsWith('.js')) expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    }
  });

  it('serves nothing outside its folder', async () => {
    for (const url of [
      '/dashboard/nope.js',
      '/dashboard/..%2fapp.ts',
      '/dashboard/change-feed.ts',
      '/dashboard/%2e%2e',
    ]) {
      const response = await get(url);
      expect([400, 404], url).toContain(response.statusCode);
    }
  });
});
