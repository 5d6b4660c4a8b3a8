import { randomBytes } from 'node:crypto';

/** Randomness is injected like time; ids are UUIDv7 so that they sort by creation time. */
export interface IdGenerator {
  next(): string;
}

/**
 * Every decision takes two ids (the request's, the event's): drawing 10 random bytes from the OS
 * each time was the main thread's largest cost after idle. Draw them 4 KiB at a time instead.
 */
const POOL_BYTES = 4080;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomTen(): Buffer {
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  poolOffset += 10;
  return pool.subarray(poolOffset - 10, poolOffset);
}

export function uuidv7(nowMs: number, random: Buffer = randomTen()): string {
  const b = Buffer.alloc(16);
  b.writeUIntBE(nowMs, 0, 6);
  random.copy(b, 6, 0, 10);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const uuidv7Generator = (clock: { now(): Date }): IdGenerator => ({
  next: () => uuidv7(clock.now().getTime()),
});

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const uuidRe = new RegExp(UUID_PATTERN);
export const isUuid = (value: string): boolean => uuidRe.test(value);
