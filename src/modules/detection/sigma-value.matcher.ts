import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * One Sigma field condition ('field|modifier|modifier: value(s)') compiled to a predicate on the
 * field's value. Strings compare case-insensitively unless the rule says `cased`; a field holding a
 * list matches when any element does; a `null` value matches a missing field.
 */
export type ValuePredicate = (value: unknown) => boolean;

export const SUPPORTED_MODIFIERS = [
  'contains',
  'startswith',
  'endswith',
  're',
  'cidr',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'all',
  'cased',
] as const;
type Modifier = (typeof SUPPORTED_MODIFIERS)[number];

const MAX_PATTERN = 1000;

export class RuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSyntaxError';
  }
}

function anyOf(value: unknown, test: (v: unknown) => boolean): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (test(value[i])) return true;
    return false;
  }
  return test(value);
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Sigma wildcards: '*' any run, '?' one character, '\' escapes. */
function hasWildcard(p: string): boolean {
  return /(^|[^\\])[*?]/.test(p);
}

function wildcardRegex(p: string, cased: boolean): RegExp {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      out += p[i + 1]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
    } else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, cased ? '' : 'i');
}

function stringTest(mod: Modifier | undefined, pattern: string, cased: boolean): (v: unknown) => boolean {
  const p = cased ? pattern : pattern.toLowerCase();
  const norm = (v: unknown): string | undefined => {
    const s = asText(v);
    return s === undefined ? undefined : cased ? s : s.toLowerCase();
  };
  // Case-insensitive substring tests run as precompiled regular expressions: lower-casing each value
  // would allocate a string per event and rule.
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const viaRegex = (re: RegExp) => (v: unknown) => {
    const s = typeof v === 'string' ? v : asText(v);
    return s !== undefined && re.test(s);
  };
  switch (mod) {
    case 'contains':
      return cased ? (v) => norm(v)?.includes(p) ?? false : viaRegex(new RegExp(escaped, 'i'));
    case 'startswith':
      return cased ? (v) => norm(v)?.startsWith(p) ?? false : viaRegex(new RegExp(`^${escaped}`, 'i'));
    case 'endswith':
      return cased ? (v) => norm(v)?.endsWith(p) ?? false : viaRegex(new RegExp(`${escaped}$`, 'i'));
    case 're': {
      let re: RegExp;
      try {
        re = new RegExp(pattern, cased ? '' : 'i');
      } catch {
        throw new RuleSyntaxError(`invalid regular expression ${JSON.stringify(pattern.slice(0, 80))}`);
      }
      return (v) => {
        const s = asText(v);
        return s !== undefined && re.test(s);
      };
    }
    default: {
      if (hasWildcard(pattern)) {
        const re = wildcardRegex(pattern, cased);
        return (v) => {
          const s = asText(v);
          return s !== undefined && re.test(s);
        };
      }
      const literal = pattern.replace(/\\([*?\\])/g, '$1');
      const lp = cased ? literal : literal.toLowerCase();
      return (v) => {
        if (typeof v === 'string') {
          if (v === lp) return true;
          return !cased && v.length === lp.length && equalsLowerCase(v, lp);
        }
        const s = asText(v);
        return s !== undefined && (cased ? s : s.toLowerCase()) === lp;
      };
    }
  }
}

/**
 * `v` equals the lower-case `lower`, ignoring ASCII case, without building a lower-cased copy of `v`
 * (one allocation per event and rule otherwise); non-ASCII text falls back to toLowerCase.
 */
function equalsLowerCase(v: string, lower: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const a = v.charCodeAt(i);
    const b = lower.charCodeAt(i);
    if (a === b) continue;
    if (a > 127 || b > 127) return v.toLowerCase() === lower;
    if (a < 65 || a > 90 || a + 32 !== b) return false;
  }
  return true;
}

function cidrTest(patterns: readonly unknown[]): (v: unknown) => boolean {
  const list = new BlockList();
  for (const p of patterns) {
    const s = typeof p === 'string' ? p : '';
    const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s);
    const family = m ? (isIPv4(m[1]!) ? 'ipv4' : isIPv6(m[1]!) ? 'ipv6' : undefined) : undefined;
    const prefix = m ? Number(m[2]) : NaN;
    if (!m || !family || prefix > (family === 'ipv4' ? 32 : 128))
      throw new RuleSyntaxError(`invalid CIDR ${JSON.stringify(s.slice(0, 60))}`);
    list.addSubnet(m[1]!, prefix, family);
  }
  return (v) => {
    if (typeof v !== 'string') return false;
    if (isIPv4(v)) return list.check(v, 'ipv4');
    if (isIPv6(v)) return list.check(v, 'ipv6');
    return false;
  };
}

function numberTest(mod: 'gt' | 'gte' | 'lt' | 'lte', pattern: unknown): (v: unknown) => boolean {
  const bound = asNumber(pattern);
  if (bound === undefined) throw new RuleSyntaxError(`modifier ${mod} needs a number`);
  const cmp =
    mod === 'gt'
      ? (n: number) => n > bound
      : mod === 'gte'
        ? (n: number) => n >= bound
        : mod === 'lt'
          ? (n: number) => n < bound
          : (n: number) => n <= bound;
  return (v) => {
    const n = asNumber(v);
    return n !== undefined && cmp(n);
  };
}

/** Compiles the modifiers and value(s) of one field condition into a predicate on the field's value. */
export function compileValuePredicate(modifiers: readonly string[], raw: unknown): ValuePredicate {
  for (const m of modifiers) {
    if (!(SUPPORTED_MODIFIERS as readonly string[]).includes(m))
      throw new RuleSyntaxError(
        `modifier "${m}" is not supported (supported: ${SUPPORTED_MODIFIERS.join(', ')})`,
      );
  }
  const cased = modifiers.includes('cased');
  const all = modifiers.includes('all');
  const kinds = modifiers.filter((m) => m !== 'cased' && m !== 'all') as Modifier[];
  if (kinds.length > 1) throw new RuleSyntaxError(`modifiers ${kinds.join('|')} cannot be combined`);
  const mod = kinds[0];
  const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (values.length === 0) throw new RuleSyntaxError('a field condition needs at least one value');
  if (values.length > 10_000) throw new RuleSyntaxError('too many values in one field condition');

  if (mod === 'exists') {
    if (typeof raw !== 'boolean') throw new RuleSyntaxError('modifier exists takes true or false');
    return raw ? (v) => v !== undefined && v !== null : (v) => v === undefined || v === null;
  }
  if (mod === 'cidr') {
    const test = cidrTest(values);
    return (v) => anyOf(v, test);
  }
  const tests: Array<(v: unknown) => boolean> = [];
  let matchesMissing = false;
  for (const value of values) {
    if (value === null) {
      if (mod) throw new RuleSyntaxError(`modifier ${mod} cannot take null`);
      matchesMissing = true;
      continue;
    }
    if (mod === 'gt' || mod === 'gte' || mod === 'lt' || mod === 'lte') {
      tests.push(numberTest(mod, value));
      continue;
    }
    if (typeof value === 'string') {
      if (value.length > MAX_PATTERN) throw new RuleSyntaxError('a value is longer than 1000 characters');
      tests.push(stringTest(mod, value, cased));
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      if (mod) tests.push(stringTest(mod, String(value), cased));
      else {
        const text = String(value);
        tests.push((v) => v === value || asText(v) === text);
      }
    } else throw new RuleSyntaxError('a field value must be a string, a number, a boolean or null');
  }
  const isMissing = (v: unknown) => v === undefined || v === null;
  if (all) {
    return (v) => !isMissing(v) && tests.every((t) => anyOf(v, t));
  }
  if (tests.length === 1 && !matchesMissing) {
    const t = tests[0]!;
    return (v) => anyOf(v, t);
  }
  return (v) => {
    if (isMissing(v)) return matchesMissing;
    for (let i = 0; i < tests.length; i++) if (anyOf(v, tests[i]!)) return true;
    return false;
  };
}

/** The lower-cased literal values of a plain equality, for the rule index; undefined otherwise. */
export function equalityLiterals(modifiers: readonly string[], raw: unknown): string[] | undefined {
  if (modifiers.length > 0) return undefined;
  const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
    else if (typeof v !== 'string' || hasWildcard(v)) return undefined;
    else out.push(v.replace(/\\([*?\\])/g, '$1').toLowerCase());
  }
  return out.length > 0 ? out : undefined;
}
