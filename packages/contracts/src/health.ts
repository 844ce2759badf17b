import { Type, type Static } from 'typebox';

export const HealthResponse = Type.Object({ status: Type.Literal('ok') }, { title: 'HealthResponse' });
export type HealthResponse = Static<typeof HealthResponse>;

export const DependencyName = Type.Union([Type.Literal('database'), Type.Literal('queue'), Type.Literal('blobs')]);
export type DependencyName = Static<typeof DependencyName>;

export const DependencyCheck = Type.Object({
  ok: Type.Boolean(),
  /** Which implementation answered: pglite or postgres, in-process or bullmq, fs. */
  driver: Type.String(),
  latencyMs: Type.Number({ minimum: 0 }),
  error: Type.Optional(Type.String()),
});
export type DependencyCheck = Static<typeof DependencyCheck>;

export const ReadinessResponse = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
    checks: Type.Object({ database: DependencyCheck, queue: DependencyCheck, blobs: DependencyCheck }),
  },
  { title: 'ReadinessResponse' },
);
export type ReadinessResponse = Static<typeof ReadinessResponse>;
