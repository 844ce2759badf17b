export { loadWorkerConfig, WorkerConfigError, WorkerEnvSchema, type WorkerConfig, type WorkerEnv } from './config.js';
export { createWorkerLogger } from './logger.js';
export { startWorker, type RunningWorker } from './worker.js';
