import { DAY_MS } from '../../shared/clock.js';
import { forbidden, invalid } from '../../shared/errors.js';
import type { SystemActor } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { canonicalEmail } from './email.js';
import type { IdentityDeps } from './identity.deps.js';
import { identityErrors as E } from './identity.errors.js';
import { identityEvent, refusalOf } from './identity.events.js';
import { findAccountByEmail } from './account.repository.js';
import { holdsActiveRole } from './role.repository.js';
import { writeAccountToken } from './token.service.js';

export interface AdminTokenResult {
  readonly accountId: string;
  readonly tokenId: string;
  readonly expiresAt: string;
  readonly secret: string;
}

/**
 * `vigie admin token`: a fresh API token for an existing, active platform administrator, issued by
 * Vigie itself (system actor 'cli', run by whoever holds the server and its database, who can do
 * anything anyway). It is how a founding administrator keeps working after its 24-hour bootstrap
 * token expires, since a token never mints one that outlives it. It lives the account kind's
 * maximum at most; the act is journaled like any token.issued, and a refusal too.
 */
export function createAdminTokenService(deps: IdentityDeps) {
  return async function issueAdminToken(input: { email: string; days?: number }): Promise<AdminTokenResult> {
    const actor: SystemActor = { kind: 'system', id: 'cli' };
    const meta = { channel: 'cli' };
    const maxDays = deps.tokens.accountDays;
    return runCommand(
      deps,
      async (ctx) => {
        const email = canonicalEmail(input.email);
        if (!email) throw E.invalidEmail();
        const days = input.days ?? maxDays;
        if (!Number.isSafeInteger(days) || days < 1 || days > maxDays)
          throw invalid('TOKEN_EXPIRY_TOO_LONG', `a token lives 1 to ${maxDays} days`, { maxDays });
        const account = await findAccountByEmail(ctx.trx, email);
        if (!account) throw E.accountNotFound();
        const admin = await holdsActiveRole(ctx.trx, account.id, 'platform_admin', ctx.now.toISOString());
        if (account.status !== 'active' || !admin)
          throw forbidden(
            'NOT_AN_ACTIVE_ADMINISTRATOR',
            'the CLI issues tokens to active platform administrators only',
          );
        const expiresAt = new Date(ctx.now.getTime() + days * DAY_MS).toISOString();
        const { token, secret } = await writeAccountToken(ctx, deps, {
          accountId: account.id,
          name: 'cli',
          createdBy: null,
          expiresAt,
          mintedVia: 'operator',
          stepUp: true,
        });
        ctx.emit(
          identityEvent('token.issued', actor, {
            target: { type: 'token', id: token.id },
            data: { accountId: account.id, expiresAt, mintedWith: null, mintedVia: 'operator', stepUp: true },
            meta,
          }),
        );
        return { accountId: account.id, tokenId: token.id, expiresAt, secret };
      },
      refusalOf('token.issued', actor, () => ({ meta })),
    );
  };
}
