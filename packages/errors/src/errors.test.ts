import { describe, expect, it } from 'vitest';
import { defineError, isModelFleetError, ModelFleetError } from './index.js';

describe('defineError', () => {
  const NotFound = defineError('MF_ERR_TEST_NOT_FOUND', 404, 'thing %s not found in %s');

  it('formats the message and carries code and status', () => {
    const error = new NotFound('a', 'b');
    expect(error).toBeInstanceOf(ModelFleetError);
    expect(error.code).toBe('MF_ERR_TEST_NOT_FOUND');
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe('thing a not found in b');
    expect(NotFound.is(error)).toBe(true);
  });

  it('passes cause and details through', () => {
    const cause = new Error('root');
    const error = new NotFound('a', 'b', { cause, details: { id: 1 } });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ id: 1 });
  });

  it('recognises an error that crossed a thread as a plain object', () => {
    const plain = { code: 'MF_ERR_TEST_NOT_FOUND', statusCode: 404, message: 'x' };
    expect(isModelFleetError(plain)).toBe(true);
    expect(NotFound.is(plain)).toBe(true);
    expect(isModelFleetError(new Error('x'))).toBe(false);
  });
});
