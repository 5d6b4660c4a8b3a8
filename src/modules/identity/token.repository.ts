import type { Executor } from '../../db/database.js';
import type { ApiTokenTable } from '../../db/schema.js';

export type TokenRow = ApiTokenTable;

export async function insertToken(db: Executor, row: TokenRow): Promise<void> {
  await db.insertInto('api_tokens').values(row).execute();
}

export async function findTokenByHash(db: Executor, tokenHash: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function findToken(db: Executor, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** One keyset page of a principal's tokens, by id (UUIDv7: issue order to the millisecond); revoked ones too. */
export async function listTokens(
  db: Executor,
  principalType: string,
  principalId: string,
  page: { afterId?: string; limit: number },
): Promise<TokenRow[]> {
  let q = db
    .selectFrom('api_tokens')
    .selectAll()
    .where('principal_type', '=', principalType)
    .where('principal_id', '=', principalId)
    .orderBy('id')
    .limit(page.limit);
  if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
  return q.execute();
}

export async function countLiveTokens(
  db: Executor,
  principalType: string,
  principalId: string,
  now: string,
): Promise<number> {
  const r = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('principal_type', '=', principalType)
    .where('principal_id', '=', principalId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function revokeToken(db: Executor, id: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Revokes every live token of a principal; used when an account or application is contained. */
export async function revokeTokensOf(
  db: Executor,
  principalType: string,
  principalId: string,
  at: string,
): Promise<number> {
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('principal_type', '=', principalType)
    .where('principal_id', '=', principalId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function touchToken(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
