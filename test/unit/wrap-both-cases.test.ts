import { describe, expect, it } from 'vitest';
import { inBothCases } from '../../src/wrap/env.ts';

describe('inBothCases', () => {
  it.each([
    [[], {}],
    [['HTTPS_PROXY'], { HTTPS_PROXY: 'v', https_proxy: 'v' }],
    [['HTTPS_PROXY', 'no_proxy'], { HTTPS_PROXY: 'v', https_proxy: 'v', NO_PROXY: 'v', no_proxy: 'v' }],
  ])('%j', (names, expected) => {
    expect(inBothCases(names, 'v')).toEqual(expected);
  });
});
