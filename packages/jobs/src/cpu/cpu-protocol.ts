import { ModelFleetError } from '@modelfleet/errors';

/** Messages between the pool (main thread) and a cpu thread. One task per thread at a time. */

export interface CpuTaskRequest {
  id: number;
  moduleUrl: string;
  exportName: string;
  input: unknown;
}

export type CpuThreadMessage =
  | { type: 'progress'; id: number; percent: number }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: SerializedError };

/**
 * Structured clone keeps only an Error's message and stack, not `code`, `statusCode` or
 * `details`, so errors cross the thread boundary as this plain shape.
 */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  statusCode: number | undefined;
  details: Record<string, unknown> | undefined;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) {
    return {
      name: 'Error',
      message: String(error),
      stack: undefined,
      code: undefined,
      statusCode: undefined,
      details: undefined,
    };
  }
  const { code, statusCode, details } = error as { code?: unknown; statusCode?: unknown; details?: unknown };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: typeof code === 'string' ? code : undefined,
    statusCode: typeof statusCode === 'number' ? statusCode : undefined,
    details: details !== null && typeof details === 'object' ? (details as Record<string, unknown>) : undefined,
  };
}

/** Rebuilds the error on the calling side: a ModelFleetError stays one (code, status, details kept). */
export function deserializeError(serialized: SerializedError): Error {
  let error: Error;
  if (serialized.code?.startsWith('MF_ERR_') && serialized.statusCode !== undefined) {
    error = new ModelFleetError(serialized.code, serialized.statusCode, serialized.message, {
      details: serialized.details,
    });
  } else {
    error = new Error(serialized.message);
    if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
  }
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}
