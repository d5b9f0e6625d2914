import { expect } from 'vitest';
import { BurrowError } from '../../src/errors.ts';

/** The BurrowError `fn` throws (a test fails if it throws anything else, or nothing). */
export function thrown(fn: () => unknown): BurrowError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BurrowError);
    return error as BurrowError;
  }
  throw new Error('expected a BurrowError, nothing was thrown');
}
