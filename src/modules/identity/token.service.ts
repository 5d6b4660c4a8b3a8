import { DAY_MS } from '../../shared/clock.js';
import type { Actor } from '../../shared/principal.js';
import { runCommand, type CommandContext } from '../events/command.js';
import { asAdminActor, lockActiveActor } from './actor.js';
import type { CommandMeta, IdentityDeps, PageRequest, PageResult } from './identity.deps.js';
import { identityErrors as E } from './identity.errors.js';
import { identityEvent, refusalOf } from './identity.events.js';
import { idPage } from './identity.paging.js';
import { mintingTokenExpiry, tokenExpiry } from './token-lifetime.js';
import { generateTokenSecret, hashTokenSecret } from './token-secret.js';
import * as repo from './token.repository.js';

/** Live tokens one account may hold: enough for a few integrations, few enough to stay reviewable. */
export const MAX_LIVE_TOKENS = 10;

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export const presentToken = (t: repo.TokenRow): ApiToken => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  createdAt: t.created_at,
  expiresAt: t.expires_at,
  lastUsedAt: t.last_used_at,
  revokedAt: t.revoked_at,
});

function ownerOf(actor: Actor): string {
  if (actor.kind !== 'account') throw E.applicationNotAllowed();
  return actor.accountId;
}

/**
 * Writes a new token for an account inside the caller's command and returns the secret, which
 * exists nowhere else: only its SHA-256 is stored. Shared by the API and `vigie admin create`.
 */
export async function writeAccountToken(
  ctx: Pick<CommandContext, 'trx' | 'now'>,
  deps: Pick<IdentityDeps, 'ids'>,
  input: {
    accountId: string;
    name: string;
    createdBy: string | null;
    expiresAt: string;
    /** How it is minted, and whether it may perform the acts that need a step-up. */
    mintedVia: 'operator' | 'session' | 'token';
    stepUp: boolean;
  },
): Promise<{ token: ApiToken; secret: string }> {
  const secret = generateTokenSecret();
  const at = ctx.now.toISOString();
  const row: repo.TokenRow = {
    id: deps.ids.next(),
    principal_type: 'account',
    principal_id: input.accountId,
    name: input.name,
    token_hash: hashTokenSecret(secret),
    prefix: secret.slice(0, 8),
    created_by: input.createdBy,
    created_at: at,
    expires_at: input.expiresAt,
    last_used_at: null,
    revoked_at: null,
    minted_via: input.mintedVia,
    step_up: input.stepUp ? 1 : 0,
  };
  await repo.insertToken(ctx.trx, row);
  return { token: presentToken(row), secret };
}

/** API tokens an account issues for itself: shown once, listed without their hash, revocable. */
export function createTokenService(deps: IdentityDeps) {
  async function issue(
    actor: Actor,
    input: { name: string; expiresInDays?: number },
    meta?: CommandMeta,
  ): Promise<{ token: ApiToken; secret: string }> {
    const accountId = ownerOf(actor);
    return runCommand(
      deps,
      async (ctx) => {
        // Serialises the live-token count and refuses a principal suspended since it was resolved.
        await lockActiveActor(ctx.trx, deps.dialect, asAdminActor(actor));
        if (
          (await repo.countLiveTokens(ctx.trx, 'account', accountId, ctx.now.toISOString())) >=
          MAX_LIVE_TOKENS
        )
          throw E.tokenLimit(MAX_LIVE_TOKENS);
        const parentExpiresAt = await mintingTokenExpiry(ctx.trx, actor, ctx.now.toISOString());
        const expiresAt = tokenExpiry({
          nowMs: ctx.now.getTime(),
          maxMs: deps.tokens.accountDays * DAY_MS,
          requestedMs:
            input.expiresInDays !== undefined ? ctx.now.getTime() + input.expiresInDays * DAY_MS : undefined,
          parentExpiresAt,
        });
        // A session reaches here only through the step-up gate (POST /api/v1/tokens is a step-up
        // act); a token passes on what it was itself allowed: no minting launders a missing step-up.
        const session = actor.kind === 'account' ? actor.session : undefined;
        const stepUp =
          actor.kind === 'account' &&
          (session
            ? session.method === 'passkey' && session.stepUpAt !== undefined
            : actor.tokenStepUp === true);
        const issued = await writeAccountToken(ctx, deps, {
          name: input.name,
          accountId,
          createdBy: accountId,
          expiresAt,
          mintedVia: session ? 'session' : 'token',
          stepUp,
        });
        ctx.emit(
          identityEvent('token.issued', actor, {
            target: { type: 'token', id: issued.token.id },
            data: {
              accountId,
              expiresAt,
              mintedWith: actor.kind === 'system' ? null : actor.tokenId,
              mintedVia: session ? 'session' : 'token',
              stepUp,
            },
            meta,
          }),
        );
        return issued;
      },
      refusalOf('token.issued', actor, () => ({ target: { type: 'account', id: accountId }, meta })),
    );
  }

  async function listOwn(actor: Actor, req: PageRequest): Promise<PageResult<ApiToken>> {
    const accountId = ownerOf(actor);
    return idPage(req, (window) => repo.listTokens(deps.db, 'account', accountId, window), presentToken);
  }

  async function revokeOwn(actor: Actor, tokenId: string, meta?: CommandMeta): Promise<ApiToken> {
    const accountId = ownerOf(actor);
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const row = await repo.findToken(trx, tokenId);
        // Another account's token does not exist for this caller.
        if (!row || row.principal_type !== 'account' || row.principal_id !== accountId)
          throw E.tokenNotFound();
        const at = now.toISOString();
        if (row.revoked_at === null) await repo.revokeToken(trx, row.id, at);
        ctx.emit(
          identityEvent('token.revoked', actor, {
            target: { type: 'token', id: row.id },
            data: { accountId },
            meta,
          }),
        );
        return presentToken({ ...row, revoked_at: row.revoked_at ?? at });
      },
      refusalOf('token.revoked', actor, () => ({ target: { type: 'token', id: tokenId }, meta })),
    );
  }

  return { issue, listOwn, revokeOwn };
}

export type TokenService = ReturnType<typeof createTokenService>;
