/** Task functions for the cpu pool tests (loaded inside worker threads). */
import { defineError } from '@modelfleet/errors';
import type { CpuTask } from './cpu-task.js';

const FixtureRefused = defineError('MF_ERR_FIXTURE_REFUSED', 422, 'refused %s');

export const double: CpuTask<number, number> = (value) => value * 2;

/** Busy-waits for `ms` milliseconds: the stand-in for a CPU-heavy step. */
export const spin: CpuTask<number, number> = (ms) => {
  const until = performance.now() + ms;
  let turns = 0;
  while (performance.now() < until) turns++;
  return turns;
};

export const refuse: CpuTask<string, never> = (what) => {
  throw new FixtureRefused(what, { details: { what } });
};

export const crash: CpuTask<string, never> = (message) => {
  const error = new RangeError(message);
  Object.assign(error, { code: 'ERR_FIXTURE' });
  throw error;
};

export const sumBytes: CpuTask<ArrayBuffer, number> = (buffer) =>
  new Uint8Array(buffer).reduce((sum, byte) => sum + byte, 0);

export const countWithProgress: CpuTask<number, number> = (steps, context) => {
  for (let step = 1; step <= steps; step++) context.progress((step / steps) * 100);
  return steps;
};

export const exitThread: CpuTask<number, never> = (code) => process.exit(code);
