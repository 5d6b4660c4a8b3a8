import type { VigieEvent } from '../../shared/event.js';

/**
 * Reading a field of an event by its dotted path ('data.reasons', 'context.ip'), compiled once per
 * rule into a closure. Arrays on the way are mapped over, so 'data.reasons' on ['a','b'] yields both
 * values and a matcher succeeds when any of them matches (Sigma's list semantics).
 */
export type FieldGetter = (event: VigieEvent) => unknown;

/** Facts computed by the engine for one event, readable as virtual fields ('@country', '@hour'). */
export interface VirtualFields {
  readonly [name: string]: (event: VigieEvent) => unknown;
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Why a field path cannot be read, or undefined when it is fine. */
export function fieldPathProblem(path: string, virtual: VirtualFields = {}): string | undefined {
  if (path.startsWith('@')) return path in virtual ? undefined : `unknown virtual field ${path}`;
  const parts = path.split('.');
  if (parts.length > 6) return `field ${path} is nested too deeply`;
  for (const p of parts) {
    if (!SEGMENT.test(p) || FORBIDDEN.has(p)) return `invalid field name ${JSON.stringify(path)}`;
  }
  return undefined;
}

function step(value: unknown, key: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const v = step(item, key);
      if (Array.isArray(v)) out.push(...(v as unknown[]));
      else if (v !== undefined) out.push(v);
    }
    return out.length === 0 ? undefined : out;
  }
  if (typeof value !== 'object') return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

export function compileField(path: string, virtual: VirtualFields = {}): FieldGetter {
  const problem = fieldPathProblem(path, virtual);
  if (problem) throw new Error(problem);
  if (path.startsWith('@')) return virtual[path]!;
  const parts = path.split('.');
  // The two common shapes get straight-line closures: they are on the hot path of every rule.
  if (parts.length === 1) {
    const a = parts[0]!;
    return (e) => step(e, a);
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (e) => {
      const first = (e as unknown as Record<string, unknown>)[a];
      if (first === undefined || first === null) return undefined;
      if (typeof first === 'object' && !Array.isArray(first)) {
        // Event data is JSON: what it owns is never a function, what Object.prototype lends always is.
        const v = (first as Record<string, unknown>)[b];
        return typeof v === 'function' ? undefined : v;
      }
      return step(first, b);
    };
  }
  return (e) => {
    let v: unknown = e;
    for (const p of parts) {
      v = step(v, p);
      if (v === undefined) return undefined;
    }
    return v;
  };
}

/** A field's value as one string for keys and sets; undefined when absent or not a scalar. */
export function scalarString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
