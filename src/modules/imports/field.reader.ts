import { isUuid } from '../../shared/ids.js';

/** Thrown by a line validator; the engine turns it into a rejected line and moves on. */
export class LineRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LineRejected';
  }
}

type Fields = Readonly<Record<string, unknown>>;
const NO_CONTROL = /^\P{Cc}*$/u;

/** A string field (an empty CSV cell or a JSON null is absent); bounded, optionally patterned. */
export function text(
  fields: Fields,
  name: string,
  options: { required?: boolean; max: number; pattern?: RegExp; hint?: string },
): string | undefined {
  const v = fields[name];
  if (v === undefined || v === null || v === '') {
    if (options.required) throw new LineRejected('MISSING_FIELD', `${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new LineRejected('INVALID_FIELD', `${name}: expected a string`);
  if (v.length > options.max)
    throw new LineRejected('INVALID_FIELD', `${name}: longer than ${options.max} characters`);
  if (!NO_CONTROL.test(v)) throw new LineRejected('INVALID_FIELD', `${name}: contains control characters`);
  if (options.pattern && !options.pattern.test(v))
    throw new LineRejected('INVALID_FIELD', `${name}: ${options.hint ?? 'invalid format'}`);
  return v;
}

export function requiredText(
  fields: Fields,
  name: string,
  options: { max: number; pattern?: RegExp; hint?: string },
): string {
  return text(fields, name, { ...options, required: true })!;
}

export function uuid(fields: Fields, name: string, required: true): string;
export function uuid(fields: Fields, name: string, required?: false): string | undefined;
export function uuid(fields: Fields, name: string, required = false): string | undefined {
  const v = text(fields, name, { required, max: 36 });
  if (v !== undefined && !isUuid(v)) throw new LineRejected('INVALID_FIELD', `${name}: expected a UUID`);
  return v;
}

export function oneOf<T extends string>(fields: Fields, name: string, values: readonly T[], fallback?: T): T {
  const v = text(fields, name, { required: fallback === undefined, max: 64 });
  if (v === undefined) return fallback!;
  if (!(values as readonly string[]).includes(v))
    throw new LineRejected('INVALID_FIELD', `${name}: expected one of ${values.join(', ')}`);
  return v as T;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** A date-time with an offset, or a calendar date (midnight UTC); stored as ISO-8601 UTC. */
export function instant(fields: Fields, name: string): string | undefined {
  const v = text(fields, name, {
    max: 40,
    pattern: DATE_TIME,
    hint: 'expected an ISO-8601 date or date-time',
  });
  if (v === undefined) return undefined;
  const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms) || !realDay(v.slice(0, 10)))
    throw new LineRejected('INVALID_FIELD', `${name}: not a real date`);
  return new Date(ms).toISOString();
}

/** Date.parse rolls 2025-02-30 over to March: check the written day exists. */
function realDay(ymd: string): boolean {
  const d = new Date(`${ymd}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd;
}

/** A calendar date YYYY-MM-DD that exists. */
export function calendarDate(fields: Fields, name: string): string | undefined {
  const v = text(fields, name, { max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/, hint: 'expected YYYY-MM-DD' });
  if (v === undefined) return undefined;
  if (!realDay(v)) throw new LineRejected('INVALID_FIELD', `${name}: not a real date`);
  return v;
}
