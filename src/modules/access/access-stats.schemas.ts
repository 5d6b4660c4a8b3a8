import { Type } from '@sinclair/typebox';
import { Id } from '../../http/schemas.js';

/** At most a day of hourly figures: denials are counted from the journal's events, a scan of the window. */
export const MAX_STATS_HOURS = 24;
/** At most a week of an account's disclosures, newest first. */
export const MAX_DISCLOSURE_HOURS = 168;
export const MAX_TOP = 50;
export const MAX_DISCLOSURES = 500;
export const MAX_DECISIONS = 200;

export const StatsQuery = Type.Object(
  {
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STATS_HOURS, default: 24 })),
    top: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOP, default: 10 })),
  },
  { additionalProperties: false },
);

export const DisclosuresQuery = Type.Object(
  {
    accountId: Id,
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DISCLOSURE_HOURS, default: 24 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DISCLOSURES, default: 100 })),
  },
  { additionalProperties: false },
);

export const DecisionsQuery = Type.Object(
  {
    accountId: Id,
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STATS_HOURS, default: 24 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DECISIONS, default: 50 })),
  },
  { additionalProperties: false },
);

export const DecisionsResponse = Type.Object({
  accountId: Type.String(),
  since: Type.String(),
  items: Type.Array(
    Type.Object({
      eventId: Type.String(),
      time: Type.String(),
      action: Type.String(),
      decision: Type.Boolean(),
      reasons: Type.Array(Type.String()),
      ruleIds: Type.Array(Type.String()),
      recordId: Type.Union([Type.String(), Type.Null()], {
        description: "the record's opaque id; for a record unknown to Vigie, the journal's keyed digest",
      }),
      unknownRecord: Type.Boolean(),
      applicationId: Type.Union([Type.String(), Type.Null()]),
      policyVersion: Type.String(),
    }),
  ),
});

const Threshold = Type.Object({ soft: Type.Integer(), hard: Type.Integer() });

const TopEntry = Type.Object({
  id: Type.String(),
  records: Type.Integer({ description: 'distinct records disclosed in the period' }),
  window: Type.Union([
    Type.Object({
      records: Type.Integer({ description: 'distinct records in the current budget window' }),
      soft: Type.Integer(),
      hard: Type.Integer(),
      frozen: Type.Boolean(),
    }),
    Type.Null(),
  ]),
});

export const StatsResponse = Type.Object({
  since: Type.String(),
  until: Type.String(),
  scope: Type.Union([Type.Literal('operator'), Type.Literal('structures')]),
  windowMinutes: Type.Integer(),
  hourly: Type.Array(
    Type.Object({
      hour: Type.String({ description: 'start of the hour, ISO 8601 UTC' }),
      disclosures: Type.Integer(),
      records: Type.Integer({ description: 'distinct records disclosed in that hour' }),
    }),
  ),
  denials: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })),
  top: Type.Object({
    accounts: Type.Array(TopEntry),
    organisations: Type.Array(TopEntry),
    applications: Type.Array(TopEntry),
  }),
});

export const DisclosuresResponse = Type.Object({
  accountId: Type.String(),
  since: Type.String(),
  items: Type.Array(
    Type.Object({
      eventId: Type.String({ description: 'the access.decision event (journal) that disclosed it' }),
      time: Type.String(),
      recordId: Type.String({ description: "the record's opaque id" }),
      applicationId: Type.Union([Type.String(), Type.Null()]),
      breakGlass: Type.Boolean(),
    }),
  ),
});

const ByName = (key: string) =>
  Type.Array(Type.Intersect([Type.Object({ [key]: Type.String() }), Threshold]));

export const BudgetsResponse = Type.Object({
  policy: Type.Object({
    name: Type.String(),
    version: Type.String(),
    loadedAt: Type.Union([Type.String(), Type.Null()]),
  }),
  budgets: Type.Union([
    Type.Object({
      windowMinutes: Type.Integer(),
      countedActions: Type.Array(Type.String()),
      onHard: Type.Union([Type.Literal('deny'), Type.Literal('step_up')]),
      account: Type.Object({
        default: Threshold,
        byRole: ByName('role'),
        recentlyApproved: Type.Union([
          Type.Intersect([Threshold, Type.Object({ hours: Type.Number() })]),
          Type.Null(),
        ]),
      }),
      organisation: Type.Object({ default: Threshold, byKind: ByName('kind') }),
      application: Type.Object({ default: Threshold, byKind: ByName('kind') }),
      exportFourEyesAbove: Type.Union([Type.Integer(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  breakGlassPerDay: Type.Integer({ description: 'break-glass uses allowed per account and day' }),
});

export const MAX_CONTROLS = 500;

export const ControlsResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.Union([Type.Literal('freeze'), Type.Literal('step_up')]),
      target: Type.Object({ type: Type.String(), id: Type.String() }),
      reason: Type.String(),
      createdBy: Type.String(),
      createdAt: Type.String(),
    }),
  ),
  truncated: Type.Boolean(),
});
