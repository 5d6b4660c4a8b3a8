import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compileRule, parseRuleDocument } from './rule.compiler.js';
import type { CompiledRule, RuleEnv } from './rule.runtime.js';

/**
 * Reading rule files: every *.yaml / *.yml directly in the rules directory, one or more YAML
 * documents each. A set is all or nothing: one bad rule refuses the whole load with every problem
 * listed (file, rule, message), and the caller keeps the rules it had.
 */
export interface RuleProblem {
  readonly file: string;
  readonly rule?: string;
  readonly message: string;
}

export class RuleSetError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(
      `${problems.length} problem(s) in the rules: ${problems
        .map((p) => `${p.file}${p.rule ? ` (${p.rule})` : ''}: ${p.message}`)
        .slice(0, 5)
        .join('; ')}`,
    );
    this.name = 'RuleSetError';
  }
}

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_RULES = 5000;

export interface LoadedRule {
  readonly rule: CompiledRule;
  readonly file: string;
}

/** Compiles the rules of one YAML text; problems are appended to `problems`. */
export function compileRuleText(
  text: string,
  file: string,
  env: RuleEnv,
  problems: RuleProblem[],
): LoadedRule[] {
  const out: LoadedRule[] = [];
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      problems.push({ file, message: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      continue;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 50 });
    if (raw === null || raw === undefined) continue;
    const id =
      typeof raw === 'object' && 'id' in raw && typeof raw.id === 'string' ? raw.id.slice(0, 80) : undefined;
    try {
      out.push({ rule: compileRule(parseRuleDocument(raw), env), file });
    } catch (error) {
      problems.push({
        file,
        ...(id ? { rule: id } : {}),
        message: error instanceof Error ? error.message : 'invalid rule',
      });
    }
  }
  return out;
}

/** Loads and compiles every rule of a directory, or throws RuleSetError listing all problems. */
export function loadRuleDirectory(dir: string, env: RuleEnv): LoadedRule[] {
  const problems: RuleProblem[] = [];
  const rules: LoadedRule[] = [];
  let files: string[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch {
    throw new RuleSetError([{ file: dir, message: 'the rules directory cannot be read' }]);
  }
  for (const name of files) {
    const file = path.join(dir, name);
    const stat = fs.statSync(file);
    if (!stat.isFile()) continue;
    if (stat.size > MAX_FILE_BYTES) {
      problems.push({ file: name, message: 'file is larger than 1 MB' });
      continue;
    }
    rules.push(...compileRuleText(fs.readFileSync(file, 'utf8'), name, env, problems));
  }
  const seen = new Set<string>();
  for (const r of rules) {
    // A signal's responses are the risk policy's, by the entity's risk: a signal never acts alone.
    // One half of a takeover (`corroborates`) may say what the takeover it completes does.
    if (r.rule.doc.risk && r.rule.doc.responses?.length && !r.rule.doc.risk.corroborates)
      problems.push({
        file: r.file,
        rule: r.rule.id,
        message: 'a signal rule (risk) has no responses of its own (only a takeover half may name some)',
      });
    if (seen.has(r.rule.id)) problems.push({ file: r.file, rule: r.rule.id, message: 'duplicate rule id' });
    seen.add(r.rule.id);
  }
  if (rules.length > MAX_RULES) problems.push({ file: dir, message: `more than ${MAX_RULES} rules` });
  if (problems.length > 0) throw new RuleSetError(problems);
  return rules;
}
