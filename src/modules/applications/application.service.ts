import type { CoreDeps } from '../../container.js';
import type { Executor } from '../../db/database.js';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { keysetPage, type KeysetPage } from '../../shared/keyset-page.js';
import { runCommand } from '../events/command.js';
import { findOrganisationScope } from '../caseload/follow.repository.js';
import { allows, pathsFor, refusalOf } from '../caseload/scope.js';
import { reasonDigest } from '../identity/identity.events.js';
import type { ApplicationScope } from '../identity/permissions.js';
import type { ApplicationKind } from './application.schemas.js';
import {
  findApplication,
  insertApplication,
  listApplications,
  setApplicationStatus,
  type ApplicationRow,
  type ApplicationWithPath,
} from './application.repository.js';
import { createApplicationTokens } from './application-token.service.js';

export type ApplicationsDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'config'>;

export interface Application {
  readonly id: string;
  readonly organisationId: string;
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly scopes: string[];
  /** Its events may name only accounts and organisations under this organisation. */
  readonly reportingOrganisationId: string;
  readonly createdBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function presentApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    kind: row.kind,
    status: row.status,
    scopes: JSON.parse(row.scopes) as string[],
    reportingOrganisationId: row.reporting_organisation_id ?? row.organisation_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const APPLICATION_NOT_FOUND = () => notFound('APPLICATION_NOT_FOUND', 'application');

/**
 * Business and partner applications as service principals owned by an organisation. Their tokens
 * authenticate them as `application` principals (requireApplication), limited to their scopes.
 */
export function createApplicationsService(deps: ApplicationsDeps) {
  const readable = (actor: Actor, path: string) =>
    allows(actor, 'application.read', path) || allows(actor, 'application.manage', path);

  /** Loads an application the actor may see (else 404) and, when `manage`, may change (else 403). */
  async function load(db: Executor, actor: Actor, id: string, manage: boolean): Promise<ApplicationWithPath> {
    const row = await findApplication(db, id);
    if (!row || !readable(actor, row.organisation_path)) throw APPLICATION_NOT_FOUND();
    if (manage && !allows(actor, 'application.manage', row.organisation_path))
      throw forbidden('PERMISSION_DENIED', 'missing permission application.manage over this organisation');
    return row;
  }

  async function changeStatus(
    actor: Actor,
    id: string,
    reason: string,
    from: 'active' | 'suspended',
    to: 'active' | 'suspended',
  ): Promise<Application> {
    const kind = to === 'suspended' ? 'application.suspended' : 'application.reactivated';
    const target = { type: 'application', id };
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const row = await load(trx, actor, id, true);
        if (row.status !== from) {
          throw conflict('ILLEGAL_STATUS_TRANSITION', `the application is ${row.status}, not ${from}`, {
            status: row.status,
          });
        }
        const at = now.toISOString();
        await setApplicationStatus(trx, id, to, at);
        ctx.emit({
          kind,
          actor: eventActorOf(actor),
          target,
          organisationId: row.organisation_id,
          outcome: 'success',
          data: { reasonSha256: reasonDigest(reason), previousStatus: from },
        });
        return presentApplication({ ...row, status: to, updated_at: at });
      },
      refusalOf(actor, kind, target),
    );
  }

  const tokens = createApplicationTokens(deps, load);

  return {
    /**
     * Registers an application under an organisation the actor manages applications of. A reporting
     * scope wider than that organisation lets the application's events name anyone under an ancestor
     * (an operator's sign-in gateway): only someone who may register applications at that ancestor
     * may grant it, since such an application can then feed detection claims about its accounts.
     */
    async register(
      actor: Actor,
      input: {
        organisationId: string;
        name: string;
        kind: ApplicationKind;
        scopes: ApplicationScope[];
        reportingOrganisationId?: string;
      },
    ): Promise<Application> {
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          const org = await findOrganisationScope(trx, input.organisationId);
          if (!org || !allows(actor, 'application.manage', org.path))
            throw notFound('ORGANISATION_NOT_FOUND', 'organisation');
          if (org.status !== 'active')
            throw conflict('ORGANISATION_NOT_ACTIVE', 'the organisation is not active');
          const scopes = [...new Set(input.scopes)].sort();
          if (scopes.length === 0)
            throw invalid('SCOPES_REQUIRED', 'an application needs at least one scope');
          let reportingId = org.id;
          if (input.reportingOrganisationId !== undefined && input.reportingOrganisationId !== org.id) {
            const wider = await findOrganisationScope(trx, input.reportingOrganisationId);
            // One answer for an unknown id and an unrelated one: no probing of the tree through here.
            if (!wider || !org.path.startsWith(wider.path))
              throw invalid(
                'REPORTING_SCOPE_INVALID',
                "the reporting scope must be the application's organisation or one of its ancestors",
              );
            if (!allows(actor, 'application.manage', wider.path))
              throw forbidden(
                'REPORTING_SCOPE_DENIED',
                'a wider reporting scope needs application.manage over that organisation',
              );
            reportingId = wider.id;
          }
          const at = now.toISOString();
          const row: ApplicationRow = {
            id: deps.ids.next(),
            organisation_id: org.id,
            name: input.name,
            kind: input.kind,
            status: 'active',
            scopes: JSON.stringify(scopes),
            created_by: actor.kind === 'account' ? actor.accountId : null,
            created_at: at,
            updated_at: at,
            reporting_organisation_id: reportingId === org.id ? null : reportingId,
          };
          await insertApplication(trx, row);
          ctx.emit({
            kind: 'application.registered',
            actor: eventActorOf(actor),
            target: { type: 'application', id: row.id },
            organisationId: org.id,
            outcome: 'success',
            data: { kind: row.kind, scopes, reportingOrganisationId: reportingId },
          });
          return presentApplication(row);
        },
        refusalOf(actor, 'application.registered', undefined),
      );
    },

    async get(actor: Actor, id: string): Promise<Application> {
      return presentApplication(await load(deps.db, actor, id, false));
    },

    async list(
      actor: Actor,
      q: { organisationId?: string; after?: string; limit: number },
    ): Promise<KeysetPage<Application>> {
      const read = pathsFor(actor, 'application.read');
      const manage = pathsFor(actor, 'application.manage');
      const underPaths = read === undefined || manage === undefined ? undefined : [...read, ...manage];
      const rows = await listApplications(deps.db, {
        ...(q.organisationId ? { organisationId: q.organisationId } : {}),
        ...(underPaths ? { underPaths } : {}),
        ...(q.after ? { afterId: q.after } : {}),
        limit: q.limit + 1,
      });
      return keysetPage(rows, q.limit, presentApplication);
    },

    /** Suspends an application: its tokens stop authenticating at once (status checked on resolve). */
    suspend: (actor: Actor, id: string, reason: string) =>
      changeStatus(actor, id, reason, 'active', 'suspended'),
    reactivate: (actor: Actor, id: string, reason: string) =>
      changeStatus(actor, id, reason, 'suspended', 'active'),

    ...tokens,
  };
}

export type ApplicationsService = ReturnType<typeof createApplicationsService>;
