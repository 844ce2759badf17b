import { Type } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createJobCatalog, type CatalogServices, type JobPayload, type JobResult } from './catalog.js';
import type { JobContext } from './job-context.js';
import { backoffDelay, defineJob } from './job-definition.js';

const usesDatabase = defineJob({
  name: 'a',
  payload: Type.Object({ id: Type.String() }),
  attempts: 1,
  backoff: { type: 'fixed', delayMs: 0 },
  async process(payload, context: JobContext<{ db: string }>) {
    return { id: payload.id, db: context.services.db };
  },
});
const usesBlobs = defineJob({
  name: 'b',
  payload: Type.Object({ n: Type.Number() }),
  attempts: 2,
  backoff: { type: 'exponential', delayMs: 100 },
  async process(payload, context: JobContext<{ blobs: number }>) {
    return payload.n + context.services.blobs;
  },
});

describe('createJobCatalog', () => {
  const catalog = createJobCatalog([usesDatabase, usesBlobs]);

  it('types payloads, results and the services a host must provide (what every job needs)', () => {
    expectTypeOf<JobPayload<typeof catalog, 'a'>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<JobResult<typeof catalog, 'b'>>().toEqualTypeOf<number>();
    expectTypeOf<CatalogServices<typeof catalog>>().toEqualTypeOf<{ db: string } & { blobs: number }>();
  });

  it('looks jobs up by name and refuses unknown names and duplicates', () => {
    expect(catalog.names).toEqual(['a', 'b']);
    expect(catalog.get('b')).toBe(usesBlobs);
    expect(() => catalog.get('c')).toThrow(expect.objectContaining({ code: 'MF_ERR_JOB_UNKNOWN' }));
    expect(() => createJobCatalog([usesDatabase, usesDatabase])).toThrow(
      expect.objectContaining({ code: 'MF_ERR_JOB_DUPLICATE_NAME' }),
    );
  });

  it('computes backoff like BullMQ: fixed, or delay * 2^(retry - 1)', () => {
    expect([2, 3, 4].map((attempt) => backoffDelay({ type: 'fixed', delayMs: 100 }, attempt))).toEqual([100, 100, 100]);
    expect([2, 3, 4].map((attempt) => backoffDelay({ type: 'exponential', delayMs: 100 }, attempt))).toEqual([
      100, 200, 400,
    ]);
  });

  it('refuses nonsensical attempts', () => {
    expect(() => defineJob({ ...usesBlobs, attempts: 0 })).toThrow(RangeError);
  });
});
