/**
 * RFC 8785 JSON Canonicalization Scheme. Object keys sort by UTF-16 code units (the default
 * Array.prototype.sort order), numbers and strings serialise as ECMAScript's JSON.stringify does,
 * which is what RFC 8785 specifies. Non-finite numbers and undefined values inside arrays are refused
 * rather than silently turned into null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold a non-finite number');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object':
      // Plain loops and concatenation: every journal event goes through here (each decision's
      // included), and map/filter/join allocate an array per level.
      if (Array.isArray(value)) return canonicalArray(value as unknown[]);
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      return canonicalObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === undefined) throw new TypeError('canonical JSON cannot hold undefined in an array');
    out += i === 0 ? canonicalJson(item) : `,${canonicalJson(item)}`;
  }
  return `${out}]`;
}

/**
 * Keys as they are written (quoted, followed by a colon), kept for the few hundred names events use;
 * bounded, since ingested events may bring names of their own.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < QUOTED_KEYS_MAX && key.length <= 64) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * Sorts keys by UTF-16 code units, as Array.prototype.sort does by default (`>` on strings compares
 * code units too). Events carry a handful of keys per object: insertion sort beats the built-in
 * sort's set-up on those; a larger object (an ingested event's own fields) takes the built-in sort.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function canonicalObject(record: Record<string, unknown>): string {
  const keys = sortKeys(Object.keys(record));
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = record[key];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += quotedKey(key) + canonicalJson(v);
  }
  return out + '}';
}
