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

function canonicalObject(record: Record<string, unknown>): string {
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
