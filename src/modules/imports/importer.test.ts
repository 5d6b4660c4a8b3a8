import { describe, expect, it } from 'vitest';
import { insertSlices } from './importer.js';

describe('insertSlices', () => {
  const pending = (n: number) => Array.from({ length: n }, (_, i) => ({ line: i + 1, row: `r${i}` }));

  it('cuts a batch so that no INSERT binds more than 30,000 values, keeping file order', () => {
    expect([...insertSlices(pending(5), 15_000)]).toEqual([['r0', 'r1'], ['r2', 'r3'], ['r4']]);
    expect([...insertSlices(pending(3), 16)]).toEqual([['r0', 'r1', 'r2']]);
  });

  it('yields nothing for an empty batch and one row at a time for absurdly wide rows', () => {
    expect([...insertSlices(pending(0), 16)]).toEqual([]);
    expect([...insertSlices(pending(2), 100_000)]).toEqual([['r0'], ['r1']]);
  });
});
