import { describe, expect, it } from 'vitest';
import { encodeTileIndex, parseTilePath, tileOf, tilePath, tileWidthAt } from './tile-layout.js';

describe('the C2SP tlog-tiles layout', () => {
  it('encodes tile indexes as x-prefixed groups of three digits', () => {
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(67)).toBe('067');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(encodeTileIndex(1_234_067)).toBe('x001/x234/067');
    expect(tilePath(0, 1_234_067, 8)).toBe('tile/0/x001/x234/067.p/8');
    expect(tilePath('entries', 5, 256)).toBe('tile/entries/005');
  });

  it('parses canonical paths and nothing else', () => {
    expect(parseTilePath('0/x001/x234/067.p/8')).toEqual({ level: 0, index: 1_234_067, width: 8 });
    expect(parseTilePath('entries/005')).toEqual({ level: 'entries', index: 5, width: 256 });
    expect(parseTilePath('63/000')).toEqual({ level: 63, index: 0, width: 256 });
    for (const bad of [
      '',
      '0',
      '64/000',
      '01/000',
      '0/1',
      '0/0001',
      'x/000',
      '0/x000/001',
      '0/000.p/0',
      '0/000.p/256',
      '0/000.p/08',
      '0/000/.p/3',
      'entries',
      '../etc/000',
      '0/x001/x002/x003/x004/x005/006',
    ]) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });

  it('places nodes in tiles: level by height, rows 0–7 inside a tile', () => {
    expect(tileOf({ height: 0, index: 300 })).toEqual({ level: 0, index: 1, row: 0, offset: 44 });
    expect(tileOf({ height: 3, index: 33 })).toEqual({ level: 0, index: 1, row: 3, offset: 1 });
    expect(tileOf({ height: 8, index: 300 })).toEqual({ level: 1, index: 1, row: 0, offset: 44 });
    expect(tileOf({ height: 40, index: 3 })).toEqual({ level: 5, index: 0, row: 0, offset: 3 });
    // Far beyond 2^31 leaves: arithmetic, not 32-bit operators.
    expect(tileOf({ height: 0, index: 2 ** 40 + 5 })).toEqual({
      level: 0,
      index: 2 ** 32,
      row: 0,
      offset: 5,
    });
  });

  it('gives the widths C2SP gives for a tree of 70,000 leaves', () => {
    expect(tileWidthAt(70_000, 0, 273)).toBe(112);
    expect(tileWidthAt(70_000, 0, 272)).toBe(256);
    expect(tileWidthAt(70_000, 1, 1)).toBe(17);
    expect(tileWidthAt(70_000, 2, 0)).toBe(1);
    expect(tileWidthAt(70_000, 0, 274)).toBe(0);
    expect(tileWidthAt(256, 1, 0)).toBe(1);
  });
});
