import { createHash } from 'node:crypto';
import { roleBit } from './access.view.js';
import { parsePolicy } from './policy.parser.js';
import {
  FACTS,
  callerAttribute,
  hasRole,
  own,
  resourceAttribute,
  sessionAttribute,
  subjectAttribute,
  type EvalContext,
} from './policy.facts.js';
import {
  PolicyError,
  type BudgetsNode,
  type ConditionNode,
  type DirectoryEntity,
  type Effect,
  type Obligation,
  type Operand,
  type PolicyDocument,
} from './policy.types.js';

type Test = (c: EvalContext) => boolean;
type Getter = (c: EvalContext) => unknown;

export interface CompiledCondition {
  readonly text: string;
  readonly line: number;
  readonly test: Test;
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  readonly reason: string | undefined;
  readonly obligations: readonly Obligation[];
  readonly breakGlass: boolean;
  readonly subjectTypes: ReadonlySet<string> | undefined;
  readonly resourceTypes: ReadonlySet<string> | undefined;
  readonly when: readonly CompiledCondition[];
  readonly unless: readonly CompiledCondition[];
  readonly file: string;
  readonly line: number;
}

export interface RuleSet {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
  readonly obligate: readonly CompiledRule[];
}

export interface CompiledPolicy {
  /** `sha256:<hex>` of the policy files' names and contents: recorded with every decision. */
  readonly version: string;
  readonly name: string;
  readonly files: readonly string[];
  readonly actions: readonly string[];
  readonly ruleCount: number;
  readonly budgets: BudgetsNode | undefined;
  readonly breakGlassCap: number;
  readonly directory: ReadonlyMap<string, ReadonlyMap<string, DirectoryEntity>>;
  rulesFor(action: string): RuleSet;
  hourAt(ms: number): number;
}

export interface PolicySource {
  readonly file: string;
  readonly text: string;
}

function loose(a: unknown, b: unknown): boolean {
  if (a === b) return a !== undefined;
  // Ids arrive as strings in requests but may be numbers in a directory (the AuthZEN demo data).
  if ((typeof a === 'number' && typeof b === 'string') || (typeof a === 'string' && typeof b === 'number')) {
    return String(a) === String(b);
  }
  return false;
}

function chain(get: Getter, rest: readonly string[]): Getter {
  if (rest.length === 0) return get;
  return (c) => {
    let v = get(c);
    for (const k of rest) v = own(v, k);
    return v;
  };
}

function compilePath(path: string): Getter {
  const [root, first, ...rest] = path.split('.') as [string, string, ...string[]];
  switch (root) {
    case 'subject':
    case 'resource': {
      const entity = (c: EvalContext) => (root === 'subject' ? c.request.subject : c.request.resource);
      if (first === 'id') return (c) => entity(c).id;
      if (first === 'type') return (c) => entity(c).type;
      if (first === 'properties') return chain((c) => entity(c).properties, rest);
      const attr = root === 'subject' ? subjectAttribute : resourceAttribute;
      return chain((c) => attr(c, first), rest);
    }
    case 'action':
      if (first === 'name') return (c) => c.request.action.name;
      if (first === 'properties') return chain((c) => c.request.action.properties, rest);
      return () => undefined;
    case 'context':
      return chain((c) => own(c.request.context, first), rest);
    case 'session':
      return chain((c) => sessionAttribute(c, first), rest);
    default:
      return chain((c) => callerAttribute(c, first), rest);
  }
}

function compileOperand(o: Operand): Getter {
  if (o.kind === 'path') return compilePath(o.path);
  const value = o.value;
  return () => value;
}

const describeOperand = (o: Operand) => (o.kind === 'path' ? o.path : JSON.stringify(o.value));

function describe(n: ConditionNode): string {
  switch (n.op) {
    case 'fact':
      return `fact ${n.name}`;
    case 'not':
      return `not (${describe(n.arg)})`;
    case 'all':
    case 'any':
      return `${n.op} (${n.args.map(describe).join('; ')})`;
    case 'present':
      return `present ${describeOperand(n.operand)}`;
    case 'has_role':
      return `has_role ${n.roles.join('|')}`;
    case 'hour_between':
      return `hour_between ${n.from}-${n.to}`;
    default:
      return `${describeOperand(n.left)} ${n.op} ${describeOperand(n.right)}`;
  }
}

function compileCondition(n: ConditionNode, policy: { hourAt(ms: number): number }): Test {
  switch (n.op) {
    case 'fact':
      return FACTS.get(n.name)!;
    case 'not': {
      const t = compileCondition(n.arg, policy);
      return (c) => !t(c);
    }
    case 'all': {
      const ts = n.args.map((a) => compileCondition(a, policy));
      return (c) => ts.every((t) => t(c));
    }
    case 'any': {
      const ts = n.args.map((a) => compileCondition(a, policy));
      return (c) => ts.some((t) => t(c));
    }
    case 'present': {
      const g = compileOperand(n.operand);
      return (c) => {
        const v = g(c);
        return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
      };
    }
    case 'has_role': {
      const roles = n.roles;
      const mask = roles.reduce((m, r) => m | roleBit(r), 0);
      return (c) => hasRole(c, roles, mask);
    }
    case 'hour_between': {
      const { from, to } = n;
      return (c) => {
        const h = policy.hourAt(c.nowMs);
        return from <= to ? h >= from && h < to : h >= from || h < to;
      };
    }
    default: {
      const l = compileOperand(n.left);
      const r = compileOperand(n.right);
      switch (n.op) {
        case 'eq':
          return (c) => loose(l(c), r(c));
        case 'ne':
          return (c) => !loose(l(c), r(c));
        case 'in':
          return (c) => {
            const list = r(c);
            const v = l(c);
            return Array.isArray(list) && list.some((x) => loose(v, x));
          };
        default: {
          const cmp = {
            lt: (a: number, b: number) => a < b,
            lte: (a: number, b: number) => a <= b,
            gt: (a: number, b: number) => a > b,
            gte: (a: number, b: number) => a >= b,
          }[n.op];
          return (c) => {
            const a = l(c);
            const b = r(c);
            return typeof a === 'number' && typeof b === 'number' && cmp(a, b);
          };
        }
      }
    }
  }
}

function hourFunction(timezone: string): (ms: number) => number {
  if (timezone === 'UTC') return (ms) => Math.floor(ms / 3_600_000) % 24;
  const format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: 'numeric', hourCycle: 'h23' });
  // Formatting a date costs microseconds; the hour changes at most once a minute, so cache per minute.
  let minute = -1;
  let hour = 0;
  return (ms) => {
    const m = Math.floor(ms / 60_000);
    if (m !== minute) {
      minute = m;
      hour = Number(format.format(ms)) % 24;
    }
    return hour;
  };
}

function merge(docs: ReadonlyArray<{ file: string; doc: PolicyDocument }>): PolicyDocument {
  const first = docs[0];
  if (!first) throw new PolicyError('(policy directory)', 1, 'no policy file (*.yaml) found');
  const ids = new Set<string>();
  let budgets: BudgetsNode | undefined;
  let breakGlass: PolicyDocument['breakGlass'];
  for (const { file, doc } of docs) {
    if (doc.timezone !== first.doc.timezone)
      throw new PolicyError(file, 1, 'every policy file must use the same timezone');
    for (const r of doc.rules) {
      if (ids.has(r.id))
        throw new PolicyError(file, r.at.line, `rule id "${r.id}" is already used in another file`);
      ids.add(r.id);
    }
    if (doc.budgets) {
      if (budgets) throw new PolicyError(file, 1, 'budgets are defined in more than one file');
      budgets = doc.budgets;
    }
    if (doc.breakGlass) {
      if (breakGlass) throw new PolicyError(file, 1, 'break_glass is defined in more than one file');
      breakGlass = doc.breakGlass;
    }
  }
  return {
    name: docs.map((d) => d.doc.name).join('+'),
    timezone: first.doc.timezone,
    actions: [...new Set(docs.flatMap((d) => d.doc.actions))],
    entities: docs.flatMap((d) => d.doc.entities),
    rules: docs.flatMap((d) => d.doc.rules),
    budgets,
    breakGlass,
  };
}

/** Parses, validates and compiles policy files into closures; throws PolicyError with file and line. */
export function compilePolicy(sources: readonly PolicySource[]): CompiledPolicy {
  const sorted = [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const doc = merge(sorted.map((s) => ({ file: s.file, doc: parsePolicy(s.file, s.text) })));
  const hash = createHash('sha256');
  for (const s of sorted) hash.update(`${s.file}\0${s.text}\0`);
  const hourAt = hourFunction(doc.timezone);
  const holder = { hourAt };
  const rules: CompiledRule[] = doc.rules.map((r) => ({
    id: r.id,
    effect: r.effect,
    reason: r.reason,
    obligations: r.obligations,
    breakGlass: r.breakGlass,
    subjectTypes: r.subjectTypes.length ? new Set(r.subjectTypes) : undefined,
    resourceTypes: r.resourceTypes.length ? new Set(r.resourceTypes) : undefined,
    when: r.when.map((n) => ({ text: describe(n), line: n.at.line, test: compileCondition(n, holder) })),
    unless: r.unless.map((n) => ({ text: describe(n), line: n.at.line, test: compileCondition(n, holder) })),
    file: r.at.file,
    line: r.at.line,
  }));
  const split = (list: readonly CompiledRule[]): RuleSet => ({
    deny: list.filter((r) => r.effect === 'deny'),
    allow: list.filter((r) => r.effect === 'allow'),
    obligate: list.filter((r) => r.effect === 'obligate'),
  });
  const named = new Set([...doc.actions, ...doc.rules.flatMap((r) => r.actions)]);
  const byAction = new Map<string, RuleSet>();
  for (const a of named) {
    byAction.set(
      a,
      split(rules.filter((r, i) => doc.rules[i]!.actions.length === 0 || doc.rules[i]!.actions.includes(a))),
    );
  }
  const wildcard = split(rules.filter((_, i) => doc.rules[i]!.actions.length === 0));
  const directory = new Map<string, Map<string, DirectoryEntity>>();
  for (const e of doc.entities) {
    let m = directory.get(e.type);
    if (!m) directory.set(e.type, (m = new Map<string, DirectoryEntity>()));
    m.set(e.id, e);
  }
  return {
    version: `sha256:${hash.digest('hex')}`,
    name: doc.name,
    files: sorted.map((s) => s.file),
    actions: doc.actions.length ? doc.actions : [...named],
    ruleCount: rules.length,
    budgets: doc.budgets,
    breakGlassCap: doc.breakGlass?.capPerDay ?? 0,
    directory,
    rulesFor: (action) => byAction.get(action) ?? wildcard,
    hourAt,
  };
}
