/**
 * @modelfleet/pipeline — the model pipeline's jobs: `optimize` turns an uploaded float model into
 * measured candidates, selects the winner and (per policy) publishes it. The CPU-heavy part runs in a
 * worker thread (optimize-task.ts); this side reads and writes the database and the blob store.
 */
export { optimizeJob, OptimizePayload, type OptimizeResult } from './optimize-job.js';
export type { OptimizeTaskInput, OptimizeTaskOutput } from './optimize-task.js';
export type { PipelineServices } from './services.js';
export { DatasetRequired, VariantUnknown, VersionMissing } from './errors.js';
