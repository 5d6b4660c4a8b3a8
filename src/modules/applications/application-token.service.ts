import type { Executor } from '../../db/database.js';
import { DAY_MS } from '../../shared/clock.js';
import { conflict, invalid, notFound } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { keysetPage, type KeysetPage } from '../../shared/keyset-page.js';
import { runCommand } from '../events/command.js';
import { refusalOf } from '../caseload/scope.js';
import {
  findToken,
  insertToken,
  listTokens,
  revokeToken,
  type TokenRow,
} from '../identity/token.repository.js';
import { reasonDigest } from '../identity/identity.events.js';
import { mintingTokenExpiry, tokenExpiry } from '../identity/token-lifetime.js';
import { generateTokenSecret, hashTokenSecret } from '../identity/token-secret.js';
import { presentToken, type ApiToken } from '../identity/token.service.js';
import type { ApplicationWithPath } from './application.repository.js';
import type { ApplicationsDeps } from './application.service.js';

/** An application's token is presented like an account's: never its hash. */
export type ApplicationToken = ApiToken;

/** Length of the token's visible prefix: `vig_` and four characters, too few to help guess it. */
const PREFIX_LENGTH = 8;

type Loader = (db: Executor, actor: Actor, id: string, manage: boolean) => Promise<ApplicationWithPath>;

/** Issuing, listing and revoking an application's API tokens. */
export function createApplicationTokens(deps: ApplicationsDeps, load: Loader) {
  return {
    /**
     * Issues a token for an active application. The secret is returned once and only its SHA-256 is
     * stored; it is generated before the transaction so nothing slow runs while holding the writer.
     */
    async issueToken(
      actor: Actor,
      applicationId: string,
      input: { name: string; expiresAt?: string },
    ): Promise<{ token: ApplicationToken; secret: string }> {
      const secret = generateTokenSecret();
      const tokenHash = hashTokenSecret(secret);
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          const app = await load(trx, actor, applicationId, true);
          if (app.status !== 'active')
            throw conflict('APPLICATION_NOT_ACTIVE', 'tokens are issued to active applications only');
          let requestedMs: number | undefined;
          if (input.expiresAt !== undefined) {
            requestedMs = Date.parse(input.expiresAt);
            if (Number.isNaN(requestedMs) || requestedMs <= now.getTime())
              throw invalid('TOKEN_EXPIRY_INVALID', 'expiresAt must be a date-time in the future');
          }
          // An account's token cannot mint an application token that outlives it (token-lifetime.ts).
          const parentExpiresAt = await mintingTokenExpiry(trx, actor, now.toISOString());
          const expiresAt = tokenExpiry({
            nowMs: now.getTime(),
            maxMs: deps.config.tokens.applicationDays * DAY_MS,
            requestedMs,
            parentExpiresAt,
          });
          const row: TokenRow = {
            id: deps.ids.next(),
            principal_type: 'application',
            principal_id: app.id,
            name: input.name,
            token_hash: tokenHash,
            prefix: secret.slice(0, PREFIX_LENGTH),
            created_by: actor.kind === 'account' ? actor.accountId : null,
            created_at: now.toISOString(),
            expires_at: expiresAt,
            last_used_at: null,
            revoked_at: null,
            minted_via: 'application',
            step_up: 0,
          };
          await insertToken(trx, row);
          ctx.emit({
            kind: 'token.issued',
            actor: eventActorOf(actor),
            target: { type: 'token', id: row.id },
            organisationId: app.organisation_id,
            outcome: 'success',
            data: {
              principalType: 'application',
              principalId: app.id,
              expiresAt,
              mintedWith: actor.kind === 'system' ? null : actor.tokenId,
            },
          });
          return { token: presentToken(row), secret };
        },
        refusalOf(actor, 'token.issued', { type: 'application', id: applicationId }),
      );
    },

    /** One page of the application's tokens, by id; `after` is the last id of the previous page. */
    async listTokens(
      actor: Actor,
      applicationId: string,
      q: { after?: string; limit: number },
    ): Promise<KeysetPage<ApplicationToken>> {
      const app = await load(deps.db, actor, applicationId, false);
      const rows = await listTokens(deps.db, 'application', app.id, {
        ...(q.after !== undefined ? { afterId: q.after } : {}),
        limit: q.limit + 1,
      });
      return keysetPage(rows, q.limit, presentToken);
    },

    /** Revokes one token of the application; the principal cache drops it on the token.revoked event. */
    async revokeToken(
      actor: Actor,
      applicationId: string,
      tokenId: string,
      reason?: string,
    ): Promise<ApplicationToken> {
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          const app = await load(trx, actor, applicationId, true);
          const token = await findToken(trx, tokenId);
          if (!token || token.principal_type !== 'application' || token.principal_id !== app.id)
            throw notFound('TOKEN_NOT_FOUND', 'token');
          const at = now.toISOString();
          if (!(await revokeToken(trx, token.id, at)))
            throw conflict('TOKEN_ALREADY_REVOKED', 'this token is already revoked');
          ctx.emit({
            kind: 'token.revoked',
            actor: eventActorOf(actor),
            target: { type: 'token', id: token.id },
            organisationId: app.organisation_id,
            outcome: 'success',
            data: {
              principalType: 'application',
              principalId: app.id,
              ...(reason ? { reasonSha256: reasonDigest(reason) } : {}),
            },
          });
          return presentToken({ ...token, revoked_at: at });
        },
        refusalOf(actor, 'token.revoked', { type: 'token', id: tokenId }),
      );
    },
  };
}
