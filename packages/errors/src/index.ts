/**
 * Errors with a stable code. Every package defines its errors once, with `defineError`,
 * and callers (and tests) match on `code`, never on the message.
 *
 *   export const BlobNotFound = defineError('MF_ERR_BLOB_NOT_FOUND', 404, 'blob %s not found');
 *   throw new BlobNotFound(sha256);
 */

export class ModelFleetError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra, machine-readable facts about the failure (safe to show to the caller). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelFleetError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options?.details;
  }
}

export interface ModelFleetErrorClass<Args extends unknown[]> {
  new (...args: Args): ModelFleetError;
  readonly code: string;
  readonly statusCode: number;
  /** True when `error` is an instance of this error (by code, so it survives worker threads and JSON). */
  is(error: unknown): error is ModelFleetError;
}

function format(template: string, args: readonly unknown[]): string {
  let index = 0;
  return template.replace(/%s/g, () => {
    const value = args[index++];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * Defines an error class with a fixed code and HTTP status. The message template uses `%s`
 * placeholders filled from the constructor's arguments; an optional trailing object
 * `{ cause, details }` is passed through.
 */
export function defineError<Args extends unknown[] = string[]>(
  code: `MF_ERR_${string}`,
  statusCode: number,
  template: string,
): ModelFleetErrorClass<[...Args, ({ cause?: unknown; details?: Record<string, unknown> } | undefined)?]> {
  const placeholders = (template.match(/%s/g) ?? []).length;
  const DefinedError = class extends ModelFleetError {
    static readonly code = code;
    static readonly statusCode = statusCode;
    static is(error: unknown): error is ModelFleetError {
      return isModelFleetError(error) && error.code === code;
    }
    constructor(...args: unknown[]) {
      const last = args.length > placeholders ? args[placeholders] : undefined;
      const options =
        last !== null && typeof last === 'object'
          ? (last as { cause?: unknown; details?: Record<string, unknown> })
          : undefined;
      super(code, statusCode, format(template, args.slice(0, placeholders)), options);
    }
  };
  Object.defineProperty(DefinedError, 'name', { value: code });
  return DefinedError as unknown as ModelFleetErrorClass<
    [...Args, ({ cause?: unknown; details?: Record<string, unknown> } | undefined)?]
  >;
}

/** True for any ModelFleet error, including one that crossed a thread or process boundary as a plain object. */
export function isModelFleetError(error: unknown): error is ModelFleetError {
  return (
    error instanceof ModelFleetError ||
    (error !== null &&
      typeof error === 'object' &&
      typeof (error as { code?: unknown }).code === 'string' &&
      (error as { code: string }).code.startsWith('MF_ERR_') &&
      typeof (error as { statusCode?: unknown }).statusCode === 'number')
  );
}
