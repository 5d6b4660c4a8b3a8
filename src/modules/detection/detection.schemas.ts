import { Type } from '@sinclair/typebox';
import { Id, PageQuery, Reason, Timestamp } from '../../http/schemas.js';
import { ALERT_STATUSES } from './alert.service.js';
import { LEVELS } from './rule.schema.js';

/** Bounded TypeBox shapes of the detection API (alerts, rules, responses). */
const Str = (max: number) => Type.String({ maxLength: max });

export const AlertStatusSchema = Type.Union(ALERT_STATUSES.map((s) => Type.Literal(s)));

export const AlertSchema = Type.Object({
  id: Id,
  ruleId: Str(80),
  title: Str(200),
  severity: Str(20),
  status: AlertStatusSchema,
  entity: Type.Object({ type: Str(20), id: Str(200) }),
  organisationId: Type.Union([Str(64), Type.Null()]),
  tags: Type.Array(Str(100)),
  evidence: Type.Array(Type.Object({ eventId: Str(200), proof: Str(300) })),
  summary: Type.Record(Type.String(), Type.Unknown()),
  occurrences: Type.Integer(),
  firstEventAt: Timestamp,
  lastEventAt: Timestamp,
  raisedEventId: Str(64),
  comment: Type.Union([Str(2000), Type.Null()]),
  updatedBy: Type.Union([Str(64), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const AlertListQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(AlertStatusSchema),
    severity: Type.Optional(Type.Union(LEVELS.map((l) => Type.Literal(l)))),
    ruleId: Type.Optional(Type.String({ maxLength: 80, pattern: '^[a-z0-9._-]+$' })),
    entityId: Type.Optional(Str(200)),
  }),
]);

export const AlertPatch = Type.Object(
  {
    status: AlertStatusSchema,
    comment: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Id });

export const ResponseSchema = Type.Object({
  id: Id,
  alertId: Id,
  ruleId: Str(80),
  action: Str(40),
  target: Type.Object({ type: Str(20), id: Str(200) }),
  status: Str(20),
  errorCode: Type.Union([Str(80), Type.Null()]),
  result: Type.Record(Type.String(), Type.Unknown()),
  executedAt: Timestamp,
  executedEventId: Str(64),
  undoneAt: Type.Union([Timestamp, Type.Null()]),
  undoneBy: Type.Union([Str(64), Type.Null()]),
});

export const UndoBody = Type.Object({ reason: Reason }, { additionalProperties: false });

export const RuleSummarySchema = Type.Object({
  id: Str(80),
  title: Str(200),
  type: Str(20),
  level: Str(20),
  entity: Str(20),
  kinds: Type.Array(Str(100)),
  tags: Type.Array(Str(100)),
  responses: Type.Array(Str(40)),
  /** Present on a signal rule: its weight and factors toward an entity's risk. */
  risk: Type.Optional(
    Type.Object({
      weight: Type.Number(),
      privileged: Type.Optional(Type.Number()),
      fresh: Type.Optional(Type.Number()),
      commonAbove: Type.Optional(Type.Number()),
    }),
  ),
  enabled: Type.Boolean(),
  file: Str(300),
  stateKeys: Type.Integer(),
});

export const RuleIdParams = Type.Object({ id: Type.String({ maxLength: 80, pattern: '^[a-z0-9._-]+$' }) });
