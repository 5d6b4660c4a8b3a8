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
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value
          .map((item: unknown) => {
            if (item === undefined) throw new TypeError('canonical JSON cannot hold undefined in an array');
            return canonicalJson(item);
          })
          .join(',')}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
