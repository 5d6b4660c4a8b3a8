import type { EventContext, EventOutcome } from '../../shared/event.js';

/**
 * OCSF 1.x → VigieEvent drafts, for the classes business applications send: Authentication (3002),
 * Account Change (3001), User Access Management (3005) and API Activity (6003, one event per
 * resource read or exported). Only ids and codes are kept; names, e-mails and free text are dropped.
 */
export interface EventDraftIn {
  /** The sender's own id of the event (OCSF metadata.uid), made unique per application and resource. */
  readonly sourceId: string | undefined;
  readonly timeMs: number;
  readonly kind: string;
  /**
   * 'user': a name the sender gives (OCSF user.uid / user.name). It is only a claim: ingestion
   * resolves it to a Vigie account inside the sender's reporting scope, or to an external principal.
   */
  readonly actor: { type: 'user' | 'application'; id: string };
  readonly target?: { type: string; id: string };
  /** The organisation the sender claims; checked against the directory before it is kept. */
  readonly organisationId?: string;
  readonly context?: EventContext;
  readonly outcome: EventOutcome;
  readonly reason?: string;
  readonly data?: Record<string, unknown>;
}

export class MappingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: unknown, ...path: string[]): unknown => {
  let v = o;
  for (const p of path) {
    if (!isObj(v) || !Object.hasOwn(v, p)) return undefined;
    v = v[p];
  }
  return v;
};

/** A bounded identifier: printable, no spaces, at most `max` characters. */
export function idText(v: unknown, max = 200): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v.length === 0 || v.length > max || !/^[\x21-\x7e]+$/.test(v))
    return undefined;
  return v;
}

const shortText = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;

/** OCSF time is epoch milliseconds; an ISO-8601 string is accepted too. */
export function timeOf(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw new MappingError('INVALID_TIME', 'time must be epoch milliseconds or an ISO-8601 date-time');
}

function outcomeOf(item: Obj): EventOutcome {
  const status = item.status_id;
  if (status === 1) return 'success';
  if (status === 2) return 'failure';
  if (status === undefined || status === 0 || status === 99) return 'success';
  throw new MappingError('INVALID_STATUS', 'status_id must be 0, 1, 2 or 99');
}

function contextOf(item: Obj): EventContext | undefined {
  const ip = shortText(get(item, 'src_endpoint', 'ip'), 45);
  const userAgent = shortText(get(item, 'http_request', 'user_agent'), 300);
  const sessionId = idText(get(item, 'session', 'uid') ?? get(item, 'actor', 'session', 'uid'));
  const requestId = idText(get(item, 'http_request', 'uid'));
  const ctx: EventContext = {
    ...(ip && /^[0-9a-fA-F:.]+$/.test(ip) ? { ip } : {}),
    ...(userAgent ? { userAgent } : {}),
    ...(sessionId ? { sessionId } : {}),
    ...(requestId ? { requestId } : {}),
  };
  return Object.keys(ctx).length > 0 ? ctx : undefined;
}

const AUTH_ACTIVITY: Record<number, string> = {
  1: 'auth.login',
  2: 'auth.logout',
  3: 'auth.ticket',
  4: 'auth.service_ticket',
};
const ACCOUNT_ACTIVITY: Record<number, string> = {
  1: 'account.created',
  2: 'account.enabled',
  3: 'account.password_changed',
  4: 'account.password_reset',
  5: 'account.disabled',
  6: 'account.deleted',
  7: 'account.policy_attached',
  8: 'account.policy_detached',
  9: 'account.locked',
  10: 'mfa.factor_enabled',
  11: 'mfa.factor_disabled',
};
const UAM_ACTIVITY: Record<number, string> = { 1: 'role.granted', 2: 'role.revoked' };
const API_ACTIVITY: Record<number, string> = {
  1: 'record.created',
  2: 'record.read',
  3: 'record.updated',
  4: 'record.deleted',
};

function activity(item: Obj, table: Record<number, string>, cls: number): string {
  const id = item.activity_id;
  const kind = typeof id === 'number' ? table[id] : undefined;
  if (!kind)
    throw new MappingError(
      'UNSUPPORTED_ACTIVITY',
      `activity_id ${String(id).slice(0, 20)} of class ${cls} is not supported`,
    );
  return kind;
}

const userId = (u: unknown) => idText(get(u, 'uid')) ?? idText(get(u, 'name'));
const orgOf = (...users: unknown[]) => {
  for (const u of users) {
    const v = idText(get(u, 'org', 'uid'), 64);
    if (v) return v;
  }
  return undefined;
};

/** Maps one OCSF event into one or more drafts (6003: one per resource); throws MappingError. */
export function mapOcsf(item: Obj, applicationId: string): EventDraftIn[] {
  const cls = item.class_uid;
  const timeMs = timeOf(item.time);
  const sourceId = idText(get(item, 'metadata', 'uid'));
  const outcome = outcomeOf(item);
  const reason =
    idText(item.status_code, 80) ?? (outcome === 'failure' ? idText(item.status_detail, 80) : undefined);
  const context = contextOf(item);
  const common = {
    sourceId,
    timeMs,
    outcome,
    ...(reason ? { reason } : {}),
    ...(context ? { context } : {}),
  };
  const actorUser = get(item, 'actor', 'user');
  const appActor = { type: 'application' as const, id: applicationId };

  if (cls === 3002) {
    const user = userId(item.user) ?? userId(actorUser);
    if (!user) throw new MappingError('MISSING_USER', 'an Authentication event needs user.uid or user.name');
    const organisationId = orgOf(item.user, actorUser);
    const isMfa = item.is_mfa;
    return [
      {
        ...common,
        kind: activity(item, AUTH_ACTIVITY, 3002),
        actor: { type: 'user', id: user },
        target: { type: 'user', id: user },
        ...(organisationId ? { organisationId } : {}),
        data: { applicationId, ...(typeof isMfa === 'boolean' ? { mfa: isMfa } : {}) },
      },
    ];
  }
  if (cls === 3001 || cls === 3005) {
    const target = userId(item.user);
    if (!target) throw new MappingError('MISSING_USER', `class ${cls} needs user.uid (the account changed)`);
    const actor = userId(actorUser);
    const organisationId = orgOf(actorUser, item.user);
    const privileges = Array.isArray(item.privileges)
      ? item.privileges
          .map((p) => idText(p, 100))
          .filter((p): p is string => p !== undefined)
          .slice(0, 20)
      : undefined;
    return [
      {
        ...common,
        kind: activity(item, cls === 3001 ? ACCOUNT_ACTIVITY : UAM_ACTIVITY, cls),
        actor: actor ? { type: 'user', id: actor } : appActor,
        target: { type: 'user', id: target },
        ...(organisationId ? { organisationId } : {}),
        data: { applicationId, ...(privileges ? { privileges } : {}) },
      },
    ];
  }
  if (cls === 6003) {
    const actor = userId(actorUser);
    const organisationId = orgOf(actorUser);
    const operation = shortText(get(item, 'api', 'operation'), 100);
    const exported = operation !== undefined && /export|download|extract/i.test(operation);
    const kind = exported ? 'record.exported' : activity(item, API_ACTIVITY, 6003);
    const resources = item.resources;
    if (!Array.isArray(resources) || resources.length === 0)
      throw new MappingError(
        'MISSING_RESOURCES',
        'an API Activity event needs resources[] with the records read',
      );
    if (resources.length > 10_000)
      throw new MappingError('TOO_MANY_RESOURCES', 'at most 10,000 resources per event');
    return resources.map((r, i) => {
      const id = idText(get(r, 'uid'));
      if (!id) throw new MappingError('INVALID_RESOURCE', `resources[${i}].uid must be an identifier`);
      return {
        ...common,
        sourceId: sourceId === undefined ? undefined : resources.length === 1 ? sourceId : `${sourceId}#${i}`,
        kind,
        actor: actor ? { type: 'user' as const, id: actor } : appActor,
        target: { type: 'record', id },
        ...(organisationId ? { organisationId } : {}),
        data: {
          applicationId,
          ...(operation ? { operation } : {}),
          ...(exported ? { resourceCount: resources.length } : {}),
        },
      };
    });
  }
  throw new MappingError(
    'UNSUPPORTED_CLASS',
    `OCSF class_uid ${String(cls).slice(0, 20)} is not supported (3001, 3002, 3005, 6003)`,
  );
}
