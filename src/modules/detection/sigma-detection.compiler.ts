import type { VigieEvent } from '../../shared/event.js';
import { compileField, type VirtualFields } from './event-field.js';
import {
  compileValuePredicate,
  equalityLiterals,
  RuleSyntaxError,
  type ValuePredicate,
} from './sigma-value.matcher.js';

/**
 * The Sigma `detection` block (search identifiers + `condition`) compiled to one closure over an
 * event. Supported: maps (AND of field conditions), lists of maps (OR), value lists (OR, or AND with
 * `|all`), `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `1 of them`, `all of them`.
 * Keyword lists (bare values without a field) and the aggregation pipe (`| count()`) are refused.
 */
export type EventPredicate = (event: VigieEvent) => boolean;

/** A plain equality every matching event satisfies: lets the engine index rules by field value. */
export interface Discriminator {
  readonly field: string;
  readonly values: readonly string[];
}

export interface CompiledDetection {
  readonly test: EventPredicate;
  readonly discriminator?: Discriminator;
}

interface Selection {
  readonly test: EventPredicate;
  /** Equalities that hold for every event this selection matches (maps only). */
  readonly equalities: Discriminator[];
}

function compileMap(map: Record<string, unknown>, virtual: VirtualFields): Selection {
  const parts: Array<{ get: (e: VigieEvent) => unknown; pred: ValuePredicate }> = [];
  const equalities: Discriminator[] = [];
  for (const [key, raw] of Object.entries(map)) {
    const [field, ...modifiers] = key.split('|');
    if (!field) throw new RuleSyntaxError(`empty field name in ${JSON.stringify(key)}`);
    let get;
    try {
      get = compileField(field, virtual);
    } catch (error) {
      throw new RuleSyntaxError((error as Error).message);
    }
    parts.push({ get, pred: compileValuePredicate(modifiers, raw) });
    const literals = equalityLiterals(modifiers, raw);
    if (literals) equalities.push({ field, values: literals });
  }
  if (parts.length === 0) throw new RuleSyntaxError('a selection map must name at least one field');
  if (parts.length === 1) {
    const { get, pred } = parts[0]!;
    return { test: (e) => pred(get(e)), equalities };
  }
  return {
    test: (e) => {
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (!p.pred(p.get(e))) return false;
      }
      return true;
    },
    equalities,
  };
}

function compileSelection(name: string, body: unknown, virtual: VirtualFields): Selection {
  if (body !== null && typeof body === 'object' && !Array.isArray(body))
    return compileMap(body as Record<string, unknown>, virtual);
  if (Array.isArray(body) && body.length > 0 && body.every((b) => b && typeof b === 'object')) {
    const maps = body.map((b) => compileMap(b as Record<string, unknown>, virtual));
    return {
      test: (e) => {
        for (let i = 0; i < maps.length; i++) if (maps[i]!.test(e)) return true;
        return false;
      },
      equalities: [],
    };
  }
  throw new RuleSyntaxError(
    `search identifier "${name}" must be a map of fields or a list of maps (keyword searches are not supported)`,
  );
}

type Token = { kind: 'word' | 'lparen' | 'rparen'; text: string };

function tokenize(condition: string): Token[] {
  if (condition.includes('|'))
    throw new RuleSyntaxError(
      'aggregations in the condition (| count() …) are not supported; use a correlation',
    );
  const tokens: Token[] = [];
  const re = /\s*(\(|\)|[A-Za-z0-9_*.-]+)\s*/y;
  let pos = 0;
  while (pos < condition.length) {
    re.lastIndex = pos;
    const m = re.exec(condition);
    if (!m) throw new RuleSyntaxError(`cannot read the condition near "${condition.slice(pos, pos + 20)}"`);
    const text = m[1]!;
    tokens.push({ kind: text === '(' ? 'lparen' : text === ')' ? 'rparen' : 'word', text });
    pos = re.lastIndex;
  }
  return tokens;
}

/** Recursive descent: or < and < not < primary, as in the Sigma specification. */
function parseCondition(condition: string, selections: Map<string, Selection>): EventPredicate {
  const tokens = tokenize(condition);
  let i = 0;
  const peek = () => tokens[i];
  const word = (w: string) => peek()?.kind === 'word' && peek()!.text.toLowerCase() === w;

  const matching = (pattern: string): Selection[] => {
    if (pattern === 'them') return [...selections.values()];
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const found = [...selections.entries()].filter(([n]) => re.test(n)).map(([, s]) => s);
    if (found.length === 0) throw new RuleSyntaxError(`no search identifier matches "${pattern}"`);
    return found;
  };

  const primary = (): EventPredicate => {
    const t = peek();
    if (!t) throw new RuleSyntaxError('the condition ends too early');
    if (t.kind === 'lparen') {
      i++;
      const inner = orExpr();
      if (peek()?.kind !== 'rparen') throw new RuleSyntaxError('a parenthesis is not closed');
      i++;
      return inner;
    }
    if (t.kind === 'rparen') throw new RuleSyntaxError('unexpected ")"');
    if (t.text === '1' || t.text.toLowerCase() === 'all') {
      const quantifier = t.text;
      i++;
      if (!word('of')) throw new RuleSyntaxError(`expected "of" after "${quantifier}"`);
      i++;
      const target = peek();
      if (!target || target.kind !== 'word') throw new RuleSyntaxError('expected a pattern after "of"');
      i++;
      const tests = matching(target.text).map((s) => s.test);
      return quantifier === '1' ? (e) => tests.some((f) => f(e)) : (e) => tests.every((f) => f(e));
    }
    const sel = selections.get(t.text);
    if (!sel) throw new RuleSyntaxError(`unknown search identifier "${t.text}" in the condition`);
    i++;
    return sel.test;
  };
  const notExpr = (): EventPredicate => {
    if (word('not')) {
      i++;
      const inner = notExpr();
      return (e) => !inner(e);
    }
    return primary();
  };
  const andExpr = (): EventPredicate => {
    let left = notExpr();
    while (word('and')) {
      i++;
      const l = left;
      const r = notExpr();
      left = (e) => l(e) && r(e);
    }
    return left;
  };
  const orExpr = (): EventPredicate => {
    let left = andExpr();
    while (word('or')) {
      i++;
      const l = left;
      const r = andExpr();
      left = (e) => l(e) || r(e);
    }
    return left;
  };
  const result = orExpr();
  if (i !== tokens.length) throw new RuleSyntaxError(`unexpected "${tokens[i]!.text}" in the condition`);
  return result;
}

/** Names of selections that every match requires: the condition is one name or an AND of names. */
function requiredSelections(condition: string): string[] | undefined {
  const words = condition.trim().split(/\s+/);
  const names: string[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if (k % 2 === 1) {
      if (w.toLowerCase() !== 'and') return undefined;
    } else if (
      /^[A-Za-z0-9_.-]+$/.test(w) &&
      !['not', 'or', 'and', '1', 'all', 'of'].includes(w.toLowerCase())
    )
      names.push(w);
    else return undefined;
  }
  return names;
}

/** Compiles a Sigma detection block; throws RuleSyntaxError with a message a rule author can act on. */
export function compileDetection(detection: unknown, virtual: VirtualFields = {}): CompiledDetection {
  if (!detection || typeof detection !== 'object' || Array.isArray(detection))
    throw new RuleSyntaxError('detection must be a map of search identifiers and a condition');
  const entries = Object.entries(detection as Record<string, unknown>);
  const conditionRaw = (detection as Record<string, unknown>).condition;
  const condition: unknown =
    Array.isArray(conditionRaw) && conditionRaw.length === 1 ? (conditionRaw[0] as unknown) : conditionRaw;
  if (typeof condition !== 'string' || condition.trim() === '')
    throw new RuleSyntaxError('detection.condition must be one non-empty string');
  if (condition.length > 2000) throw new RuleSyntaxError('detection.condition is too long');
  const selections = new Map<string, Selection>();
  for (const [name, body] of entries) {
    if (name === 'condition' || name === 'timeframe') continue;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      throw new RuleSyntaxError(`invalid search identifier "${name}"`);
    selections.set(name, compileSelection(name, body, virtual));
  }
  if ('timeframe' in detection)
    throw new RuleSyntaxError('detection.timeframe is not supported; use a correlation with a timespan');
  const test = parseCondition(condition, selections);
  const required = requiredSelections(condition);
  let discriminator: Discriminator | undefined;
  for (const name of required ?? []) {
    const eq = selections.get(name)?.equalities.find((d) => !d.field.startsWith('@') && d.field !== 'kind');
    if (eq) {
      discriminator = eq;
      break;
    }
  }
  return discriminator ? { test, discriminator } : { test };
}
