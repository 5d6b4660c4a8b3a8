import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { FACT_NAMES } from './policy.facts.js';
import { YamlReader } from './policy.yaml-reader.js';
import type {
  BudgetsNode,
  ConditionNode,
  DirectoryEntity,
  Effect,
  Obligation,
  Operand,
  PolicyDocument,
  RuleNode,
  Threshold,
} from './policy.types.js';

/*
 * Vigie's policy format (documented in docs/access.md). One YAML document per file:
 *   vigie_policy: 1, name, timezone?, actions?, entities?, rules, budgets?, break_glass?
 * Validation is complete at load: an unknown key, fact, effect or malformed path is an error with
 * its line, so that nothing is discovered at decision time.
 */

const NAME = /^[a-z][a-z0-9_.:-]{0,79}$/i;
const CODE = /^[a-z][a-z0-9_]{0,63}$/;
const PATH = /^(subject|resource|action|context|caller|session)(\.[A-Za-z0-9_$-]{1,64}){1,6}$/;
const ROLE = /^[a-z][a-z0-9_]{0,63}$/;
const OPS = ['fact', 'not', 'all', 'any', 'eq', 'ne', 'in', 'lt', 'lte', 'gt', 'gte', 'present', 'has_role'];
const ALL_OPS = [...OPS, 'hour_between'];

export function parsePolicy(file: string, text: string): PolicyDocument {
  const { reader: r, root } = YamlReader.parse(file, text);
  const top = r.map(root, 'the policy', [
    'vigie_policy',
    'name',
    'description',
    'timezone',
    'actions',
    'entities',
    'rules',
    'budgets',
    'break_glass',
  ]);
  if (r.integer(r.require(top, 'vigie_policy', 'the policy'), 'vigie_policy', 1, 1) !== 1) {
    r.fail(top, 'unsupported vigie_policy version');
  }
  const name = r.string(r.require(top, 'name', 'the policy'), 'name', NAME);
  const tzNode = r.get(top, 'timezone');
  const timezone = tzNode === undefined ? 'UTC' : r.string(tzNode, 'timezone');
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone });
  } catch {
    r.fail(tzNode, `unknown time zone "${timezone.slice(0, 60)}"`);
  }
  const actionsNode = r.get(top, 'actions');
  const actions = actionsNode ? r.seq(actionsNode, 'actions').map((n) => r.string(n, 'action', NAME)) : [];
  const entitiesNode = r.get(top, 'entities');
  const entities = entitiesNode ? r.seq(entitiesNode, 'entities').map((n) => parseEntity(r, n)) : [];
  const rulesNode = r.require(top, 'rules', 'the policy');
  const rules = r.seq(rulesNode, 'rules').map((n) => parseRule(r, n));
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) r.fail(rulesNode, `rule id "${rule.id}" is used twice`);
    seen.add(rule.id);
  }
  const budgetsNode = r.get(top, 'budgets');
  const bgNode = r.get(top, 'break_glass');
  let breakGlass: PolicyDocument['breakGlass'];
  if (bgNode !== undefined) {
    const m = r.map(bgNode, 'break_glass', ['cap_per_day']);
    breakGlass = {
      capPerDay: r.integer(r.require(m, 'cap_per_day', 'break_glass'), 'cap_per_day', 0, 10_000),
    };
  }
  return {
    name,
    timezone,
    actions,
    entities,
    rules,
    budgets: budgetsNode === undefined || budgetsNode === null ? undefined : parseBudgets(r, budgetsNode),
    breakGlass,
  };
}

function parseEntity(r: YamlReader, node: Node): DirectoryEntity {
  const m = r.map(node, 'an entity', ['type', 'id', 'attributes']);
  const attrs = r.get(m, 'attributes');
  if (attrs !== undefined) r.map(attrs, 'attributes');
  const idNode = r.require(m, 'id', 'an entity');
  const id =
    isScalar(idNode) && typeof idNode.value === 'number' ? String(idNode.value) : r.string(idNode, 'id');
  return {
    type: r.string(r.require(m, 'type', 'an entity'), 'type', NAME),
    id,
    attributes: (attrs === undefined ? {} : r.plain(attrs)) as Record<string, unknown>,
  };
}

function parseRule(r: YamlReader, node: Node): RuleNode {
  const m = r.map(node, 'a rule', [
    'id',
    'effect',
    'description',
    'actions',
    'subject_types',
    'resource_types',
    'when',
    'unless',
    'reason',
    'obligations',
    'break_glass',
  ]);
  const id = r.string(r.require(m, 'id', 'a rule'), 'rule id', NAME);
  const effectNode = r.require(m, 'effect', `rule ${id}`);
  const effect = r.string(effectNode, 'effect') as Effect;
  if (!['allow', 'deny', 'obligate'].includes(effect))
    r.fail(effectNode, 'effect must be allow, deny or obligate');
  const names = (key: string, pattern: RegExp) => {
    const n = r.get(m, key);
    return n === undefined ? [] : r.seqOrOne(n, key).map((x) => r.string(x, key, pattern));
  };
  const conditions = (key: string) => {
    const n = r.get(m, key);
    return n === undefined ? [] : r.seq(n, key).map((x) => parseCondition(r, x, 0));
  };
  const reasonNode = r.get(m, 'reason');
  const reason = reasonNode === undefined ? undefined : r.string(reasonNode, 'reason', CODE);
  if (effect === 'deny' && reason === undefined) r.fail(m, `deny rule ${id} needs a public "reason" code`);
  const obligationsNode = r.get(m, 'obligations');
  const obligations = obligationsNode
    ? r.seq(obligationsNode, 'obligations').map((o) => {
        const om = r.map(o, 'an obligation');
        r.string(r.require(om, 'type', 'an obligation'), 'obligation type', CODE);
        return r.plain(om) as Obligation;
      })
    : [];
  const bg = r.get(m, 'break_glass');
  const breakGlass = bg === undefined ? false : r.boolean(bg, 'break_glass');
  if (breakGlass && effect !== 'allow') r.fail(bg, 'only an allow rule can be a break-glass rule');
  return {
    id,
    effect,
    actions: names('actions', NAME),
    subjectTypes: names('subject_types', NAME),
    resourceTypes: names('resource_types', NAME),
    when: conditions('when'),
    unless: conditions('unless'),
    reason,
    obligations,
    breakGlass,
    at: r.at(node),
  };
}

function parseCondition(r: YamlReader, node: Node, depth: number): ConditionNode {
  if (depth > 8) r.fail(node, 'conditions are nested too deeply');
  const m = r.map(node, 'a condition');
  if (m.items.length !== 1) r.fail(node, `a condition has exactly one operator (${ALL_OPS.join(', ')})`);
  const [{ key, keyNode, value }] = r.keys(m) as [{ key: string; keyNode: Node; value: Node | null }];
  const at = r.at(node);
  switch (key) {
    case 'fact': {
      const name = r.string(value, 'fact');
      if (!FACT_NAMES.has(name)) r.fail(value, `unknown fact "${name.slice(0, 60)}"`);
      return { op: 'fact', name, at };
    }
    case 'not':
      return { op: 'not', arg: parseCondition(r, value as Node, depth + 1), at };
    case 'all':
    case 'any':
      return { op: key, args: r.seq(value, key).map((x) => parseCondition(r, x, depth + 1)), at };
    case 'eq':
    case 'ne':
    case 'in':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const pair = r.seq(value, key);
      if (pair.length !== 2) r.fail(value, `${key} takes exactly two operands`);
      return { op: key, left: parseOperand(r, pair[0]!), right: parseOperand(r, pair[1]!), at };
    }
    case 'present':
      return { op: 'present', operand: parseOperand(r, value as Node), at };
    case 'has_role':
      return {
        op: 'has_role',
        roles: r.seqOrOne(value, 'has_role').map((x) => r.string(x, 'role', ROLE)),
        at,
      };
    case 'hour_between': {
      const pair = r.seq(value, 'hour_between');
      if (pair.length !== 2) r.fail(value, 'hour_between takes [from, to] hours');
      return {
        op: 'hour_between',
        from: r.integer(pair[0], 'from hour', 0, 24),
        to: r.integer(pair[1], 'to hour', 0, 24),
        at,
      };
    }
    default:
      return r.fail(keyNode, `unknown operator "${key.slice(0, 40)}" (one of ${ALL_OPS.join(', ')})`);
  }
}

function parseOperand(r: YamlReader, node: Node): Operand {
  if (
    isScalar(node) &&
    typeof node.value === 'string' &&
    /^(subject|resource|action|context|caller|session)\./.test(node.value)
  ) {
    if (!PATH.test(node.value)) r.fail(node, `malformed path "${node.value.slice(0, 60)}"`);
    return { kind: 'path', path: node.value };
  }
  if (isMap(node)) {
    const m = r.map(node, 'a literal', ['value']);
    return { kind: 'literal', value: r.plain(r.get(m, 'value')) };
  }
  if (isSeq(node) || isScalar(node)) return { kind: 'literal', value: r.plain(node) };
  return r.fail(node, 'an operand is a path (subject.…, resource.…) or a literal value');
}

function parseThreshold(r: YamlReader, node: Node | null | undefined, what: string): Threshold {
  const m = r.map(node, what, ['soft', 'hard', 'hours']);
  const soft = r.integer(r.require(m, 'soft', what), `${what}.soft`, 0, 10_000_000);
  const hard = r.integer(r.require(m, 'hard', what), `${what}.hard`, 0, 10_000_000);
  if (soft > hard) r.fail(m, `${what}: soft must not exceed hard`);
  return { soft, hard };
}

function thresholdMap(
  r: YamlReader,
  node: Node | null | undefined,
  what: string,
): Array<[string, Threshold]> {
  if (node === undefined) return [];
  return r.keys(r.map(node, what)).map(({ key, value }) => [key, parseThreshold(r, value, `${what}.${key}`)]);
}

function parseBudgets(r: YamlReader, node: Node): BudgetsNode {
  const m = r.map(node, 'budgets', [
    'window_minutes',
    'counted_actions',
    'on_hard',
    'account',
    'organisation',
    'application',
    'export',
  ]);
  const onHardNode = r.get(m, 'on_hard');
  const onHard = onHardNode === undefined ? 'deny' : r.string(onHardNode, 'on_hard');
  if (onHard !== 'deny' && onHard !== 'step_up') r.fail(onHardNode, 'on_hard must be deny or step_up');
  const section = (key: string, extra: string[]) =>
    r.map(r.require(m, key, 'budgets'), key, ['default', ...extra]);
  const account = section('account', ['by_role', 'recently_approved']);
  const organisation = section('organisation', ['by_kind']);
  const application = section('application', ['by_kind']);
  const recent = r.get(account, 'recently_approved');
  let recentlyApproved: BudgetsNode['account']['recentlyApproved'];
  if (recent !== undefined) {
    const rm = r.map(recent, 'recently_approved', ['soft', 'hard', 'hours']);
    recentlyApproved = {
      ...parseThreshold(r, recent, 'recently_approved'),
      hours: r.integer(r.require(rm, 'hours', 'recently_approved'), 'hours', 1, 720),
    };
  }
  const exportNode = r.get(m, 'export');
  let exportFourEyesAbove: number | undefined;
  if (exportNode !== undefined) {
    const em = r.map(exportNode, 'export', ['four_eyes_above']);
    exportFourEyesAbove = r.integer(
      r.require(em, 'four_eyes_above', 'export'),
      'four_eyes_above',
      0,
      10_000_000,
    );
  }
  const counted = r.get(m, 'counted_actions');
  return {
    windowMinutes: r.integer(r.require(m, 'window_minutes', 'budgets'), 'window_minutes', 1, 7 * 24 * 60),
    countedActions: counted
      ? r.seq(counted, 'counted_actions').map((x) => r.string(x, 'action', NAME))
      : ['read'],
    onHard,
    account: {
      default: parseThreshold(r, r.require(account, 'default', 'account'), 'account.default'),
      byRole: thresholdMap(r, r.get(account, 'by_role'), 'account.by_role'),
      recentlyApproved,
    },
    organisation: {
      default: parseThreshold(r, r.require(organisation, 'default', 'organisation'), 'organisation.default'),
      byKind: new Map(thresholdMap(r, r.get(organisation, 'by_kind'), 'organisation.by_kind')),
    },
    application: {
      default: parseThreshold(r, r.require(application, 'default', 'application'), 'application.default'),
      byKind: new Map(thresholdMap(r, r.get(application, 'by_kind'), 'application.by_kind')),
    },
    exportFourEyesAbove,
  };
}
