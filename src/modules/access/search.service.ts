import { createHash } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import { invalid } from '../../shared/errors.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { AccessService } from './access.service.js';
import type { DecisionRequest, RequestEntity } from './policy.facts.js';
import type { SessionFacts, SessionLookup } from './session-facts.js';

/*
 * AuthZEN subject, resource and action search. Candidates come from the view (accounts,
 * applications, records followed by the subject's structure) or from the policy's directory; each is
 * checked with a dry-run decision, so every result fed back into an evaluation is allowed (the
 * spec's soundness rule) and a search never counts against budgets. Results are sorted and paged
 * with a stateless token bound to the request, so a token cannot be replayed on another query.
 */

export type SearchKind = 'subject' | 'resource' | 'action';

export interface SearchInput {
  readonly subject: { type: string; id?: string; properties?: Record<string, unknown> };
  readonly resource: { type: string; id?: string; properties?: Record<string, unknown> };
  readonly action?: { name: string; properties?: Record<string, unknown> };
  readonly context?: Record<string, unknown>;
  readonly page?: { token?: string; next_token?: string; limit?: number };
  readonly callerId: string;
  /** The Vigie session the context named, looked up by the route (see session-facts.ts). */
  readonly session?: SessionLookup;
}

export interface SearchOutput<T> {
  readonly results: T[];
  readonly page: { next_token: string };
}

const DEFAULT_LIMIT = 50;
const MAX_CANDIDATES = 200_000;

function fingerprint(kind: SearchKind, input: SearchInput, policyVersion: string): string {
  const { page: _page, session: _session, ...rest } = input;
  return createHash('sha256')
    .update(`${kind}\0${policyVersion}\0${canonicalJson(rest)}`)
    .digest('base64url')
    .slice(0, 16);
}

function offsetOf(token: string | undefined, expected: string): number {
  if (token === undefined || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      f?: unknown;
    };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.f === expected)
      return parsed.o;
  } catch {
    // fall through to the error below
  }
  throw invalid('INVALID_PAGE_TOKEN', 'the page token does not belong to this search');
}

function page<T>(all: T[], input: SearchInput, fp: string): SearchOutput<T> {
  const offset = offsetOf(input.page?.token ?? input.page?.next_token, fp);
  const limit = input.page?.limit ?? DEFAULT_LIMIT;
  const results = all.slice(offset, offset + limit);
  const next =
    offset + limit < all.length
      ? Buffer.from(JSON.stringify({ o: offset + limit, f: fp })).toString('base64url')
      : '';
  return { results, page: { next_token: next } };
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createSearchService(
  access: AccessService,
  ids: IdGenerator,
  clock: { now(): Date },
  sessions?: Pick<SessionFacts, 'apply'>,
) {
  // The session applied to the subject once, reused for every candidate resource or action.
  let bound: { subject: RequestEntity; applied: DecisionRequest } | undefined;

  function request(
    input: SearchInput,
    subject: RequestEntity,
    resource: RequestEntity,
    action: string,
  ): DecisionRequest {
    const r: DecisionRequest = {
      subject,
      resource,
      action: { name: action, ...(input.action?.properties ? { properties: input.action.properties } : {}) },
      ...(input.context ? { context: input.context } : {}),
      callerId: input.callerId,
    };
    if (!input.session || !sessions) return r;
    if (bound?.subject !== subject) bound = { subject, applied: sessions.apply(r, input.session) };
    return { ...r, context: bound.applied.context, session: bound.applied.session! };
  }

  function journal(kind: SearchKind, input: SearchInput, count: number): void {
    bound = undefined;
    access.record([
      {
        id: ids.next(),
        time: clock.now().toISOString(),
        kind: 'access.searched',
        actor: { type: 'application', id: input.callerId },
        outcome: 'success',
        data: {
          search: kind,
          subjectType: input.subject.type,
          resourceType: input.resource.type,
          ...(input.action ? { action: input.action.name } : {}),
          results: count,
          policyVersion: access.policy.version,
        },
        source: 'vigie',
      },
    ]);
  }

  function subjectCandidates(type: string): string[] {
    const v = access.view;
    if (type === 'account') return [...v.accounts.keys()];
    if (type === 'application') return [...v.applications.keys()];
    return [...(access.policy.directory.get(type)?.keys() ?? [])];
  }

  function resourceCandidates(input: SearchInput, type: string): string[] {
    const v = access.view;
    const declared = access.policy.directory.get(type);
    if (declared) return [...declared.keys()];
    if (type !== 'record') return [];
    const minute = Math.floor(clock.now().getTime() / 60_000);
    const account =
      input.subject.type === 'account' && input.subject.id ? v.accounts.get(input.subject.id) : undefined;
    const app = v.applications.get(input.callerId);
    const org = account?.orgIdx ?? app?.orgIdx ?? -1;
    return v.follows
      .recordsOf(org, account?.idx ?? -1, minute, MAX_CANDIDATES)
      .map((r) => v.follows.records.ids[r]!);
  }

  return {
    subjects(input: SearchInput): SearchOutput<{ type: string; id: string }> {
      const fp = fingerprint('subject', input, access.policy.version);
      const resource = input.resource as RequestEntity;
      const found = subjectCandidates(input.subject.type)
        .slice(0, MAX_CANDIDATES)
        .filter(
          (id) =>
            access.dryRun(
              request(
                input,
                {
                  type: input.subject.type,
                  id,
                  ...(input.subject.properties ? { properties: input.subject.properties } : {}),
                },
                resource,
                input.action!.name,
              ),
            ).decision,
        )
        .map((id) => ({ type: input.subject.type, id }))
        .sort(byId);
      journal('subject', input, found.length);
      return page(found, input, fp);
    },

    resources(input: SearchInput): SearchOutput<{ type: string; id: string }> {
      const fp = fingerprint('resource', input, access.policy.version);
      const subject = input.subject as RequestEntity;
      const found = resourceCandidates(input, input.resource.type)
        .filter(
          (id) =>
            access.dryRun(
              request(
                input,
                subject,
                {
                  type: input.resource.type,
                  id,
                  ...(input.resource.properties ? { properties: input.resource.properties } : {}),
                },
                input.action!.name,
              ),
            ).decision,
        )
        .map((id) => ({ type: input.resource.type, id }))
        .sort(byId);
      journal('resource', input, found.length);
      return page(found, input, fp);
    },

    actions(input: SearchInput): SearchOutput<{ name: string }> {
      const fp = fingerprint('action', input, access.policy.version);
      const subject = input.subject as RequestEntity;
      const resource = input.resource as RequestEntity;
      const found = access.policy.actions
        .filter((name) => access.dryRun(request(input, subject, resource, name)).decision)
        .map((name) => ({ name }));
      journal('action', input, found.length);
      return page(found, input, fp);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
