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

export async function listTokens(
  db: Executor,
  principalType: string,
  principalId: string,
): Promise<TokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('principal_type', '=', principalType)
    .where('principal_id', '=', principalId)
    .orderBy('created_at', 'desc')
    .execute();
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
