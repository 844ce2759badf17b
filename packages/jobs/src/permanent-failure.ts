import { isModelFleetError, ModelFleetError } from '@modelfleet/errors';

/**
 * Thrown by a processor for a failure no retry can fix (bad input, content that is not what it
 * claims). Both drivers fail the job at once, whatever attempts remain.
 */
export class PermanentJobError extends ModelFleetError {
  constructor(
    code: `MF_ERR_${string}`,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, 422, message, options);
    this.name = 'PermanentJobError';
  }
}

/**
 * A failure is permanent when it says so (PermanentJobError) or when it is a ModelFleet error with
 * a 4xx status: the request itself is wrong, so repeating it gives the same answer.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof PermanentJobError) return true;
  return isModelFleetError(error) && error.statusCode >= 400 && error.statusCode < 500;
}

const CODED_REASON = /^(MF_ERR_[A-Z0-9_]+): ([\s\S]*)$/;

/**
 * The failed reason both drivers record: `MF_ERR_CODE: message` for ModelFleet errors, so the code
 * survives Redis (BullMQ keeps only a message string) and reads the same from either driver.
 */
export function failureReason(error: unknown): string {
  if (isModelFleetError(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Splits a recorded failed reason back into its code (when it has one) and message. */
export function parseFailureReason(reason: string): { code: string | undefined; message: string } {
  const match = CODED_REASON.exec(reason);
  return match === null ? { code: undefined, message: reason } : { code: match[1], message: match[2] ?? '' };
}
