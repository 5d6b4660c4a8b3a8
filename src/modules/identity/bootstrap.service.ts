import { HOUR_MS } from '../../shared/clock.js';
import type { SystemActor } from '../../shared/principal.js';
import { invalid } from '../../shared/errors.js';
import { runCommand } from '../events/command.js';
import { insertAccount, emailExists } from './account.repository.js';
import { newAccountRow } from './account.model.js';
import { canonicalEmail } from './email.js';
import type { IdentityDeps } from './identity.deps.js';
import { identityErrors as E } from './identity.errors.js';
import { identityEvent, refusalOf } from './identity.events.js';
import { findRoot, insertOrganisation } from './organisation.repository.js';
import { BUILTIN_ROLES } from './permissions.js';
import { insertAssignment, upsertBuiltinRoles } from './role.repository.js';
import { writeAccountToken } from './token.service.js';

export interface BootstrapResult {
  readonly organisationId: string;
  readonly organisationCreated: boolean;
  readonly accountId: string;
  readonly tokenId: string;
  readonly tokenExpiresAt: string;
  readonly secret: string;
}

/**
 * The one way to the first administrator: Vigie itself (system actor 'cli', run by whoever holds the
 * database) creates the operator root if there is none, an active platform_admin account and a
 * one-time API token, all journaled in one transaction. Run it again for each founding administrator:
 * two independent administrators are what four-eyes needs to start.
 */
export function createBootstrapService(deps: IdentityDeps) {
  return async function bootstrapAdmin(input: {
    email: string;
    organisationName?: string;
  }): Promise<BootstrapResult> {
    const actor: SystemActor = { kind: 'system', id: 'cli' };
    const meta = { channel: 'cli' };
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const at = now.toISOString();
        const email = canonicalEmail(input.email);
        if (!email) throw E.invalidEmail();
        if (await emailExists(trx, email)) throw E.emailTaken();
        const name = input.organisationName?.trim();
        if (name !== undefined && (name.length === 0 || name.length > 200))
          throw invalid('INVALID_NAME', 'the organisation name must be 1 to 200 characters');
        await upsertBuiltinRoles(trx, BUILTIN_ROLES);
        let root = await findRoot(trx);
        const organisationCreated = root === undefined;
        if (!root) {
          const id = deps.ids.next();
          root = {
            id,
            parent_id: null,
            path: `/${id}/`,
            depth: 0,
            name: name ?? 'Operator',
            kind: 'operator',
            siret: null,
            status: 'active',
            contract_end_date: null,
            created_at: at,
            updated_at: at,
          };
          await insertOrganisation(trx, root);
          ctx.emit(
            identityEvent('organisation.created', actor, {
              target: { type: 'organisation', id },
              organisationId: id,
              data: { parentId: null, kind: 'operator' },
              meta,
            }),
          );
        }
        const accountId = deps.ids.next();
        await insertAccount(
          trx,
          newAccountRow(
            {
              id: accountId,
              organisation_id: root.id,
              kind: 'human',
              email,
              display_name: null,
              status: 'active',
              created_by: null,
              approved_at: at,
              creation_channel: 'cli',
              status_reason: null,
            },
            at,
          ),
        );
        ctx.emit(
          identityEvent('account.created', actor, {
            target: { type: 'account', id: accountId },
            organisationId: root.id,
            data: {
              status: 'active',
              kind: 'human',
              creationChannel: 'cli',
              createdBy: null,
              delegated: false,
            },
            meta,
          }),
        );
        const assignmentId = deps.ids.next();
        await insertAssignment(trx, {
          id: assignmentId,
          account_id: accountId,
          role_id: 'platform_admin',
          organisation_id: root.id,
          status: 'active',
          granted_by: null,
          granted_at: at,
          approved_by: null,
          approved_at: at,
          expires_at: null,
          revoked_by: null,
          revoked_at: null,
        });
        ctx.emit(
          identityEvent('role.granted', actor, {
            target: { type: 'account', id: accountId },
            organisationId: root.id,
            data: { assignmentId, roleId: 'platform_admin', privileged: true, bootstrap: true },
            meta,
          }),
        );
        // Short-lived: it only has to last until setup is done; `vigie admin token` issues the next one.
        const expiresAt = new Date(now.getTime() + deps.tokens.bootstrapHours * HOUR_MS).toISOString();
        const { token, secret } = await writeAccountToken(ctx, deps, {
          accountId,
          name: 'bootstrap',
          createdBy: null,
          expiresAt,
          mintedVia: 'operator',
          stepUp: true,
        });
        ctx.emit(
          identityEvent('token.issued', actor, {
            target: { type: 'token', id: token.id },
            data: { accountId, expiresAt, mintedWith: null },
            meta,
          }),
        );
        return {
          organisationId: root.id,
          organisationCreated,
          accountId,
          tokenId: token.id,
          tokenExpiresAt: expiresAt,
          secret,
        };
      },
      refusalOf('account.created', actor, () => ({ meta })),
    );
  };
}
