import type { CreateModelLineBody, ModelLine, ModelVersion, OptimizationPolicy } from '@modelfleet/contracts';
import { encodeDataset, generateSynthetic, SYNTHETIC_CLASS_NAMES } from '@modelfleet/datasets';
import type { TestServer } from './test-server.js';
import { multipart } from './multipart.js';

/** The demo models' input: 64x64 RGB, the synthetic task's five classes, scaled to [-1, 1]. */
export const DEMO_PREPROCESSING: CreateModelLineBody['preprocessing'] = {
  inputSize: [64, 64],
  scale: 1 / 127.5,
  offset: -1,
  classNames: [...SYNTHETIC_CLASS_NAMES],
};

/**
 * A policy that keeps the optimize job short on a shared machine: one cheap candidate (theta4 needs no
 * calibration), the fewest latency runs the schema allows, and no automatic publish.
 */
export const QUICK_POLICY: Partial<OptimizationPolicy> = { variants: ['theta4'], latencyRuns: 5, autoPublish: false };

/** Creates a line through the API (admin key) and returns it; fails the test on anything but 201. */
export async function createLine(
  server: TestServer,
  name: string,
  body: Partial<CreateModelLineBody> = {},
): Promise<ModelLine> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/models',
    headers: server.auth(),
    payload: { name, preprocessing: DEMO_PREPROCESSING, ...body },
  });
  if (response.statusCode !== 201) throw new Error(`create line ${name}: ${response.statusCode} ${response.body}`);
  return response.json<ModelLine>();
}

/** A small synthetic dataset in the engine's format (.mfds), at the demo input size unless told. */
export function syntheticDatasetFile(options: { seed?: number; count?: number; size?: number } = {}): Uint8Array {
  return encodeDataset(
    generateSynthetic({ seed: options.seed ?? 7, count: options.count ?? 20, size: options.size ?? 64 }),
  );
}

/** POST /v1/models/:line/datasets with a role and one file part. */
export async function postDataset(
  server: TestServer,
  line: string,
  file: { filename: string; bytes: Uint8Array } | undefined,
  fields: Record<string, string> = { role: 'test' },
  key?: string,
) {
  const parts: Parameters<typeof multipart>[0] = Object.entries(fields).map(([field, value]) => ({ field, value }));
  if (file !== undefined) parts.push({ field: 'file', ...file });
  const body = await multipart(parts);
  return server.app.inject({
    method: 'POST',
    url: `/v1/models/${line}/datasets`,
    headers: { ...server.auth(key), ...body.headers },
    payload: body.payload,
  });
}

/** POST /v1/models/:line/versions with one part per file (named by its file name), or any parts given. */
export async function postVersion(
  server: TestServer,
  line: string,
  files: Iterable<[string, Uint8Array]>,
  key?: string,
) {
  const body = await multipart([...files].map(([name, bytes]) => ({ field: name, filename: name, bytes })));
  return server.app.inject({
    method: 'POST',
    url: `/v1/models/${line}/versions`,
    headers: { ...server.auth(key), ...body.headers },
    payload: body.payload,
  });
}

/**
 * Polls GET version until its status is one of `until` (or the deadline passes, which fails the test
 * with the last status seen). Polling, not sleeping a fixed time: the job's length depends on the machine.
 */
export async function waitForVersion(
  server: TestServer,
  line: string,
  id: string,
  until: readonly ModelVersion['status'][] = ['ready', 'failed'],
  deadlineMs = 90_000,
  /** Sees every state polled, e.g. to check that progress only moves forward. */
  observe?: (version: ModelVersion) => void,
): Promise<ModelVersion> {
  const deadline = Date.now() + deadlineMs;
  let last: ModelVersion | undefined;
  for (;;) {
    const response = await server.app.inject({
      method: 'GET',
      url: `/v1/models/${line}/versions/${id}`,
      headers: server.auth(),
    });
    if (response.statusCode !== 200) throw new Error(`GET version ${id}: ${response.statusCode} ${response.body}`);
    last = response.json<ModelVersion>();
    observe?.(last);
    if (until.includes(last.status)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `version ${id} still ${last.status} (${last.progress.stage ?? '-'} ${last.progress.percent} %) after ${deadlineMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Row counts of what uploads create, to assert that a refused request stored nothing. */
export async function rowCounts(server: TestServer) {
  const { prisma } = server.services.db;
  const [lines, datasets, versions, blobs, candidates, releases, apiKeys] = await Promise.all([
    prisma.modelLine.count(),
    prisma.dataset.count(),
    prisma.modelVersion.count(),
    prisma.blob.count(),
    prisma.candidate.count(),
    prisma.release.count(),
    prisma.apiKey.count(),
  ]);
  return { lines, datasets, versions, blobs, candidates, releases, apiKeys };
}

/** Creates an API key with the given scopes through the API (admin key) and returns the secret. */
export async function createKey(
  server: TestServer,
  scopes: string[],
  name = `test ${scopes.join('+')}`,
): Promise<string> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: server.auth(),
    payload: { name, scopes },
  });
  if (response.statusCode !== 201) throw new Error(`create key: ${response.statusCode} ${response.body}`);
  return response.json<{ key: string }>().key;
}
