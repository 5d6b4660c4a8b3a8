import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parseAllDocuments, stringify } from 'yaml';
import { compileRule, parseRuleDocument } from './rule.compiler.js';
import type { RuleEnv } from './rule.runtime.js';
import type { EntityType, RuleDocument } from './rule.schema.js';

/**
 * Importing Sigma rules (detection and correlation, the subset Vigie runs). Each document is first
 * validated against the official Sigma JSON Schemas (schemas/sigma/), then translated into a Vigie
 * rule and compiled, so what comes out is known to load. Anything outside the subset is refused with
 * a message saying what and why; nothing is silently dropped.
 * - logsource: product `vigie`; category (or service) is a Vigie event kind or kind family
 *   (`access.decision`, `auth` → `auth.*`).
 * - correlation types: event_count, value_count, temporal_ordered; `temporal` (unordered) is refused.
 * - group-by: the first field that names an entity (actor.id, context.ip, data.applicationId,
 *   organisationId) becomes the rule's entity (its partition key); the others group within it.
 */
export class SigmaImportError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'SigmaImportError';
  }
}

function schemasDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'schemas', 'sigma');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('schemas/sigma not found');
}

let validators:
  { detection: (d: unknown) => boolean; correlation: (d: unknown) => boolean; ajv: Ajv2020 } | undefined;
function loadValidators() {
  if (validators) return validators;
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats.default(ajv);
  const read = (f: string) => {
    const schema = JSON.parse(fs.readFileSync(path.join(schemasDir(), f), 'utf8')) as Record<string, unknown>;
    delete schema.$schema; // the published files differ in how they spell the 2020-12 meta-schema URI
    return ajv.compile(schema);
  };
  validators = {
    detection: read('sigma-detection-rule-schema.json'),
    correlation: read('sigma-correlation-rules-schema.json'),
    ajv,
  };
  return validators;
}

const ENTITY_FIELDS: ReadonlyArray<readonly [string, EntityType]> = [
  ['actor.id', 'account'],
  ['context.ip', 'ip'],
  ['data.applicationId', 'application'],
  ['organisationId', 'organisation'],
];

type Doc = Record<string, unknown>;
const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical']);

function kindsOf(doc: Doc, where: string): string[] {
  const ls = (doc.logsource ?? {}) as Doc;
  if (ls.product !== 'vigie')
    throw new Error(
      `${where}: logsource.product must be "vigie" (Vigie reads its own event stream), got ${JSON.stringify(ls.product ?? null)}`,
    );
  const k = ls.category ?? ls.service;
  if (typeof k !== 'string' || !/^[a-z_]+(\.[a-z_]+)*$/.test(k))
    throw new Error(
      `${where}: logsource.category must be a Vigie event kind such as access.decision or auth`,
    );
  return [k.includes('.') ? k : `${k}.*`];
}

function ruleId(doc: Doc): string {
  const name = typeof doc.name === 'string' ? doc.name.toLowerCase() : undefined;
  if (name && /^[a-z0-9][a-z0-9._-]{2,79}$/.test(name)) return name;
  if (typeof doc.id === 'string') return `sigma.${doc.id.toLowerCase()}`;
  throw new Error(`rule "${String(doc.title).slice(0, 60)}": needs a name or an id`);
}

function common(doc: Doc) {
  const level = typeof doc.level === 'string' && LEVELS.has(doc.level) ? doc.level : 'medium';
  const tags = Array.isArray(doc.tags)
    ? (doc.tags as string[]).filter((t) => /^[a-z0-9_-]+\.[a-z0-9._-]+$/.test(t))
    : [];
  return {
    id: ruleId(doc),
    title: String(doc.title).slice(0, 200),
    ...(typeof doc.description === 'string' ? { description: doc.description.slice(0, 4000) } : {}),
    level: level as RuleDocument['level'],
    tags,
    ...(doc.status === 'deprecated' || doc.status === 'unsupported' ? { enabled: false } : {}),
  };
}

function entityOf(groupBy: readonly string[]): { entity: EntityType; rest: string[] } {
  for (const [field, entity] of ENTITY_FIELDS)
    if (groupBy.includes(field)) return { entity, rest: groupBy.filter((g) => g !== field) };
  return { entity: 'account', rest: [...groupBy] };
}

function translateCorrelation(doc: Doc, byRef: Map<string, Doc>): RuleDocument {
  const c = doc.correlation as Doc;
  const refs = (c.rules as string[]).map((r) => {
    const found = byRef.get(r);
    if (!found) throw new Error(`correlation "${String(doc.title)}": rule "${r}" is not in this file`);
    return found;
  });
  const { entity, rest } = entityOf((c['group-by'] as string[] | undefined) ?? []);
  const timespan = String(c.timespan);
  if (!/^[1-9][0-9]{0,5}(s|m|h|d)$/.test(timespan))
    throw new Error(
      `correlation "${String(doc.title)}": timespan ${timespan} is not supported (s, m, h or d)`,
    );
  const type = c.type as string;
  const cond = { ...((c.condition ?? {}) as Record<string, unknown>) };
  const field = (cond.field ?? c.field) as string | string[] | undefined;
  delete cond.field;
  if (type === 'temporal')
    throw new Error(
      `correlation "${String(doc.title)}": type temporal (unordered) is not supported; use temporal_ordered`,
    );
  if (type === 'event_count' || type === 'value_count') {
    if (refs.length !== 1)
      throw new Error(
        `correlation "${String(doc.title)}": ${type} over several rules is not supported; reference one rule`,
      );
    if (type === 'value_count' && typeof field !== 'string')
      throw new Error(`correlation "${String(doc.title)}": value_count needs one condition.field`);
    const ref = refs[0]!;
    return {
      ...common({ ...ref, ...doc, name: doc.name }),
      type,
      entity,
      kinds: kindsOf(ref, String(ref.title)),
      detection: ref.detection as Record<string, unknown>,
      correlation: {
        ...(rest.length ? { groupBy: rest } : {}),
        timespan,
        condition: cond,
        ...(type === 'value_count' ? { field: field as string } : {}),
      },
    };
  }
  if (type === 'temporal_ordered') {
    if (refs.length < 2 || refs.length > 5)
      throw new Error(`correlation "${String(doc.title)}": temporal_ordered needs 2 to 5 rules`);
    const steps = refs.map((r, i) => ({
      name: `step-${i + 1}`,
      kinds: kindsOf(r, String(r.title)),
      detection: r.detection as Record<string, unknown>,
    }));
    return {
      ...common({ ...refs[0], ...doc, name: doc.name }),
      type: 'sequence',
      entity,
      kinds: [...new Set(steps.flatMap((s) => s.kinds))],
      sequence: { timespan, steps },
    };
  }
  throw new Error(`correlation "${String(doc.title)}": type ${type} is not supported`);
}

/**
 * The published correlation schema (V2.0.1) requires `field` beside `condition` for value_count,
 * while the specification puts it inside `condition`; a rule written either way is checked against
 * the schema with the field present where the schema looks for it.
 */
function schemaView(doc: Doc): Doc {
  const c = doc.correlation as Doc | undefined;
  const inner = (c?.condition as Doc | undefined)?.field;
  if (!c || c.type !== 'value_count' || c.field !== undefined || inner === undefined) return doc;
  return { ...doc, correlation: { ...c, field: inner } };
}

/** Translates the Sigma documents of one YAML text into Vigie rules, each compiled to prove it loads. */
export function importSigma(text: string, env: RuleEnv): RuleDocument[] {
  const v = loadValidators();
  const problems: string[] = [];
  const docs: Doc[] = [];
  const parsed = parseAllDocuments(text);
  for (const d of Array.isArray(parsed) ? parsed : []) {
    if (d.errors.length) {
      problems.push(`YAML: ${d.errors[0]!.message.split('\n')[0]}`);
      continue;
    }
    const raw: unknown = d.toJS();
    if (raw === null || raw === undefined) continue;
    const isCorrelation = typeof raw === 'object' && 'correlation' in raw;
    const validate = isCorrelation ? v.correlation : v.detection;
    if (!validate(isCorrelation ? schemaView(raw) : raw)) {
      const e = (validate as unknown as { errors?: Array<{ instancePath: string; message?: string }> })
        .errors?.[0];
      problems.push(
        `"${typeof (raw as Doc).title === 'string' ? ((raw as Doc).title as string).slice(0, 60) : '?'}" does not follow the Sigma schema: ${e?.instancePath || '/'} ${e?.message ?? ''}`.trim(),
      );
      continue;
    }
    docs.push(raw as Doc);
  }
  if (problems.length) throw new SigmaImportError(problems);

  const byRef = new Map<string, Doc>();
  for (const d of docs) {
    if (typeof d.name === 'string') byRef.set(d.name, d);
    if (typeof d.id === 'string') byRef.set(d.id, d);
  }
  const correlated = new Set<Doc>();
  const out: RuleDocument[] = [];
  for (const d of docs.filter((x) => 'correlation' in x)) {
    try {
      for (const r of (d.correlation as Doc).rules as string[])
        if (byRef.has(r) && (d.correlation as Doc).generate !== true) correlated.add(byRef.get(r)!);
      out.push(translateCorrelation(d, byRef));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const d of docs.filter((x) => !('correlation' in x) && !correlated.has(x))) {
    try {
      out.push({
        ...common(d),
        type: 'match',
        entity: 'account',
        kinds: kindsOf(d, String(d.title)),
        detection: d.detection as Record<string, unknown>,
      });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const r of out) {
    try {
      compileRule(parseRuleDocument(r), env);
    } catch (error) {
      problems.push(`${r.id}: ${(error as Error).message}`);
    }
  }
  if (problems.length) throw new SigmaImportError(problems);
  return out;
}

export function rulesToYaml(rules: readonly RuleDocument[]): string {
  return rules.map((r) => stringify(r, { lineWidth: 110 })).join('---\n');
}
