import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from '../../db/database.js';
import type { Clock } from '../../shared/clock.js';
import * as repo from './oidc.repository.js';
import { clientMetadataOf } from './oidc.clients.js';

/** base64url SHA-256: artefacts are found by the hash of their id, never stored by the id itself. */
export function hashOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/**
 * Models whose id is a bearer secret (a token, a code, a handle in a URL): their payload is stored
 * without its `jti`, which is the id. A Session keeps its `jti` (not a credential: the browser holds
 * the signed `uid` cookie instead, and Vigie re-checks its own session on every authorisation).
 */
const KEEPS_JTI = new Set(['Session']);

export interface AdapterDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Called when an authorisation code is stored: its grant now has the `sid` of the ID token. */
  readonly onCodeIssued?: (grantId: string, sid: string, sessionUid: string | undefined) => Promise<void>;
}

/**
 * oidc-provider's storage over Kysely, for SQLite and PostgreSQL alike: one row per artefact, keyed
 * by model and SHA-256 of its id, the payload as JSON, the grant id (for revokeByGrantId), the
 * hashed session uid (findByUid) and user code, when it was consumed and when it expires. Clients
 * are not stored here: `Client` is read from the registered applications (oidc_clients).
 */
export function createAdapterClass(deps: AdapterDeps): new (model: string) => Adapter {
  const nowIso = () => deps.clock.now().toISOString();

  function revive(model: string, id: string | undefined, row: repo.ArtifactRow | undefined) {
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (id !== undefined && !KEEPS_JTI.has(model)) payload.jti = id;
    if (row.consumed_at !== null) payload.consumed = Number(row.consumed_at);
    return payload;
  }

  return class KyselyAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.#model === 'Client') return;
      const stored: AdapterPayload = { ...payload };
      if (!KEEPS_JTI.has(this.#model)) delete stored.jti;
      delete stored.consumed;
      const grantId = this.#model === 'Grant' ? id : (payload.grantId ?? null);
      await repo.upsertArtifact(deps.db, {
        model: this.#model,
        id_hash: hashOf(id),
        payload: JSON.stringify(stored),
        grant_id: grantId,
        uid_hash: payload.uid ? hashOf(payload.uid) : null,
        user_code_hash: payload.userCode ? hashOf(payload.userCode) : null,
        consumed_at: typeof payload.consumed === 'number' ? payload.consumed : null,
        expires_at:
          typeof expiresIn === 'number' && Number.isFinite(expiresIn)
            ? new Date(deps.clock.now().getTime() + expiresIn * 1000).toISOString()
            : null,
      });
      if (this.#model === 'AuthorizationCode' && payload.grantId && typeof payload.sid === 'string')
        await deps.onCodeIssued?.(
          payload.grantId,
          payload.sid,
          typeof payload.sessionUid === 'string' ? payload.sessionUid : undefined,
        );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.#model === 'Client') {
        const row = await repo.findActiveClient(deps.db, id);
        return row ? clientMetadataOf(row) : undefined;
      }
      return revive(
        this.#model,
        id,
        await repo.findArtifact(deps.db, this.#model, { idHash: hashOf(id) }, nowIso()),
      );
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return revive(
        this.#model,
        undefined,
        await repo.findArtifact(deps.db, this.#model, { uidHash: hashOf(uid) }, nowIso()),
      );
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return revive(
        this.#model,
        undefined,
        await repo.findArtifact(deps.db, this.#model, { userCodeHash: hashOf(userCode) }, nowIso()),
      );
    }

    async consume(id: string): Promise<void> {
      await repo.consumeArtifact(deps.db, this.#model, hashOf(id), Math.floor(Date.now() / 1000));
    }

    async destroy(id: string): Promise<void> {
      await repo.deleteArtifact(deps.db, this.#model, hashOf(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await repo.deleteArtifactsOfGrant(deps.db, grantId);
    }
  };
}
