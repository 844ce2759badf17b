/** A small HTTP client of the admin API for the fault tests (fetch, an admin key, JSON in and out). */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DemoFiles } from '../../support/demo-data.js';

export function newAdminKey(): string {
  return `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

export interface Api {
  request<T = unknown>(method: string, url: string, body?: unknown): Promise<Answer<T>>;
  /** The request must answer 2xx; returns the JSON body. */
  ok<T = unknown>(method: string, url: string, body?: unknown): Promise<T>;
  createLine(name: string, demo: DemoFiles, policy?: Record<string, unknown>): Promise<void>;
  /** POST /v1/models/:line/datasets with a dataset file; the answer as it came (no status check). */
  uploadDataset(line: string, file: string, role: string, name: string): Promise<Answer<Record<string, unknown>>>;
  /** GET /readyz: its status code, or 0 when the server does not answer. */
  readyz(): Promise<number>;
}

export function adminApi(address: () => string, adminKey: string): Api {
  const request = async <T>(method: string, url: string, body?: unknown): Promise<Answer<T>> => {
    const response = await fetch(`${address()}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  const ok = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const answer = await request<T>(method, url, body);
    if (answer.status >= 300) throw new Error(`${method} ${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  return {
    request,
    ok,
    async createLine(name, demo, policy) {
      await ok('POST', '/v1/models', {
        name,
        preprocessing: {
          inputSize: demo.inputSize,
          scale: demo.scale,
          offset: demo.offset,
          classNames: demo.classNames,
        },
        ...(policy === undefined ? {} : { policy }),
      });
    },
    async uploadDataset(line, file, role, name) {
      const form = new FormData();
      form.set('role', role);
      form.set('name', name);
      form.set('file', new Blob([await fs.readFile(file)]), path.basename(file));
      const response = await fetch(`${address()}/v1/models/${line}/datasets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}` },
        body: form,
      });
      const text = await response.text();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsed: text };
      }
      return { status: response.status, body };
    },
    async readyz() {
      return fetch(`${address()}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
    },
  };
}

/** Every blob file under `<dataDir>/blobs` (sha256 names), and the temp files of puts in progress or abandoned. */
export async function blobFiles(dataDir: string): Promise<{ blobs: string[]; temp: string[] }> {
  const root = path.join(dataDir, 'blobs');
  const blobs: string[] = [];
  const walk = async (dir: string, depth: number) => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.name === '.tmp') continue;
      if (entry.isDirectory() && depth < 2) await walk(path.join(dir, entry.name), depth + 1);
      else if (entry.isFile() && /^[0-9a-f]{64}$/.test(entry.name)) blobs.push(entry.name);
    }
  };
  await walk(root, 0);
  const temp = await fs.readdir(path.join(root, '.tmp')).catch(() => [] as string[]);
  return { blobs: blobs.sort(), temp };
}
