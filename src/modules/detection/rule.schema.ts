import { Type, type Static } from '@sinclair/typebox';

/**
 * The YAML shape of a Vigie rule, validated on load. The `detection` block is Sigma's; the rest says
 * which events the rule reads (`kinds`), which entity its state is keyed by (`entity`, the partition
 * key when detection is spread over workers) and how it aggregates.
 */
const Duration = Type.String({ pattern: '^[1-9][0-9]{0,5}(s|m|h|d)$', maxLength: 8 });
const FieldPath = Type.String({ minLength: 1, maxLength: 200 });
const Count = Type.Integer({ minimum: 0, maximum: 10_000_000 });

export const RULE_TYPES = [
  'match',
  'event_count',
  'value_count',
  'sequence',
  'first_seen',
  'baseline',
  'geo',
  'honeytoken',
  'enumeration',
] as const;
export const ENTITIES = ['account', 'organisation', 'application', 'ip'] as const;
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const RESPONSE_ACTIONS = [
  'suspend_account',
  'suspend_lineage',
  'revoke_tokens',
  'freeze_budgets',
  'require_step_up',
] as const;

export type RuleType = (typeof RULE_TYPES)[number];
export type EntityType = (typeof ENTITIES)[number];
export type Level = (typeof LEVELS)[number];
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];

const CountCondition = Type.Object(
  {
    gt: Type.Optional(Count),
    gte: Type.Optional(Count),
    lt: Type.Optional(Count),
    lte: Type.Optional(Count),
    eq: Type.Optional(Count),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Detection = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown());

export const RuleDocument = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{2,79}$' }),
    title: Type.String({ minLength: 3, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    status: Type.Optional(
      Type.Union([Type.Literal('stable'), Type.Literal('test'), Type.Literal('experimental')]),
    ),
    enabled: Type.Optional(Type.Boolean()),
    level: Type.Union(LEVELS.map((l) => Type.Literal(l))),
    tags: Type.Array(Type.String({ pattern: '^[a-z0-9_-]+\\.[a-z0-9._-]+$', maxLength: 100 }), {
      minItems: 1,
      maxItems: 20,
    }),
    type: Type.Union(RULE_TYPES.map((t) => Type.Literal(t))),
    entity: Type.Union(ENTITIES.map((t) => Type.Literal(t))),
    kinds: Type.Array(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)*(\\.\\*)?$|^\\*$', maxLength: 100 }), {
      minItems: 1,
      maxItems: 50,
    }),
    /** Local time zone for @hour and @weekday (IANA name). */
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    detection: Type.Optional(Detection),
    /** Facts about the acting account, known from the directory rather than the event. */
    account: Type.Optional(
      Type.Object(
        {
          privileged: Type.Optional(Type.Boolean()),
          roles: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
          createdWithin: Type.Optional(Duration),
          dormantFor: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    correlation: Type.Optional(
      Type.Object(
        {
          groupBy: Type.Optional(Type.Array(FieldPath, { maxItems: 5 })),
          timespan: Duration,
          condition: CountCondition,
          field: Type.Optional(FieldPath),
        },
        { additionalProperties: false },
      ),
    ),
    sequence: Type.Optional(
      Type.Object(
        {
          timespan: Duration,
          steps: Type.Array(
            Type.Object(
              {
                name: Type.String({ pattern: '^[a-z0-9_-]{1,40}$' }),
                kinds: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 20 }),
                detection: Type.Optional(Detection),
                /** The field that keys this step (default: the rule entity's id). */
                key: Type.Optional(FieldPath),
                /** This step's actor must be an account created by the previous step's actor. */
                lineage: Type.Optional(Type.Boolean()),
                /** Matches needed before the step counts (e.g. failures before a success). */
                atLeast: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
                /** With atLeast: count distinct values of this field rather than events. */
                distinct: Type.Optional(FieldPath),
              },
              { additionalProperties: false },
            ),
            { minItems: 2, maxItems: 5 },
          ),
          /** Whose entity the finding names: the last step's actor (default) or the first step's. */
          entityFrom: Type.Optional(Type.Union([Type.Literal('last_step'), Type.Literal('first_step')])),
        },
        { additionalProperties: false },
      ),
    ),
    firstSeen: Type.Optional(
      Type.Object(
        {
          value: FieldPath,
          /** Extra key fields under the entity (e.g. the session id). */
          key: Type.Optional(Type.Array(FieldPath, { maxItems: 3 })),
          /** Observations of the key before a new value is news (cold start). */
          minHistory: Type.Integer({ minimum: 0, maximum: 100_000 }),
          maxValues: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          /**
           * A condition over the detection's search identifiers: every event the detection accepts
           * teaches the rule its values, but only one matching this condition is reported as new
           * (e.g. learn an account's networks from its sign-ins, report a session shown from a new one).
           */
          reportOn: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        },
        { additionalProperties: false },
      ),
    ),
    baseline: Type.Optional(
      Type.Object(
        {
          /** Count events, or distinct values of `field`, per entity and day. */
          field: Type.Optional(FieldPath),
          minHistory: Type.Integer({ minimum: 1, maximum: 365 }),
          floor: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
          /** Threshold = median + k × (1.4826 × MAD), the MAD itself floored at 1. */
          k: Type.Number({ minimum: 0.5, maximum: 100 }),
          peers: Type.Boolean(),
          minPeers: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    geo: Type.Optional(
      Type.Object(
        {
          check: Type.Union([
            Type.Literal('new_country'),
            Type.Literal('new_asn'),
            Type.Literal('impossible_travel'),
          ]),
          minHistory: Type.Integer({ minimum: 0, maximum: 100_000 }),
          maxSpeedKmh: Type.Optional(Type.Number({ minimum: 50, maximum: 100_000 })),
          minDistanceKm: Type.Optional(Type.Number({ minimum: 0, maximum: 20_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    enumeration: Type.Optional(
      Type.Object(
        {
          field: FieldPath,
          maxGap: Type.Integer({ minimum: 1, maximum: 1000 }),
          minRun: Type.Integer({ minimum: 3, maximum: 100_000 }),
          timespan: Duration,
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * A signal rather than an alert: each finding adds `weight` points to the decaying risk of the
     * entities it concerns (risk.ts) and is kept as an observation; an alert is raised only when the
     * risk crosses its threshold. `privileged` multiplies the weight for a privileged account,
     * `fresh` for an account created within the last 7 days; `commonAbove` damps a signal that
     * many accounts of the same peer group raise within a day (what everyone does is weak evidence).
     * `corroborates` names the half of an account takeover the signal is evidence of: `credential`
     * (someone holding the account's name tried a credential Vigie does not know) or `session` (the
     * account's session shown from another network or browser). Both halves on one account within
     * the risk policy's `takeoverWithinMs` raise a takeover alert (risk.ts).
     */
    risk: Type.Optional(
      Type.Object(
        {
          weight: Type.Integer({ minimum: 1, maximum: 1000 }),
          privileged: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
          fresh: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
          commonAbove: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          corroborates: Type.Optional(Type.Union([Type.Literal('credential'), Type.Literal('session')])),
        },
        { additionalProperties: false },
      ),
    ),
    /** A second alert for the same rule and entity within this window is folded into the first. */
    suppress: Type.Optional(Duration),
    responses: Type.Optional(
      Type.Array(
        Type.Object(
          {
            action: Type.Union(RESPONSE_ACTIONS.map((a) => Type.Literal(a))),
            /** For freeze_budgets: whose budgets (default: the alert's entity). */
            target: Type.Optional(
              Type.Union([
                Type.Literal('organisation'),
                Type.Literal('application'),
                Type.Literal('account'),
              ]),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 5 },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RuleDocument = Static<typeof RuleDocument>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(text: string): number {
  const unit = text.slice(-1) as keyof typeof UNIT_MS;
  return Number(text.slice(0, -1)) * UNIT_MS[unit];
}
