import { pino, type Logger } from 'pino';
import type { WorkerConfig } from './config.js';

/** JSON lines on stdout (what log collectors read); one base field tells the worker processes apart. */
export function createWorkerLogger(config: Pick<WorkerConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid, service: 'modelfleet-worker' } });
}
