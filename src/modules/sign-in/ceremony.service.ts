import type { Executor } from '../../db/database.js';
import * as repo from './ceremony.repository.js';
import type { SignInDeps } from './sign-in.deps.js';
import { signInErrors as E } from './sign-in.errors.js';
import { digestOf, newSecret } from './sign-in.secrets.js';
import type { UserVerification } from './passkey.webauthn.js';

/**
 * Pending WebAuthn ceremonies: a fresh challenge per ceremony, stored as its SHA-256 with what it is
 * for, valid a few minutes, spent by the first verification that names it (even a failed one).
 */
export function createCeremonies(deps: Pick<SignInDeps, 'db' | 'clock' | 'ids' | 'signIn'>) {
  async function begin(
    db: Executor,
    input: {
      purpose: repo.CeremonyPurpose;
      accountId?: string;
      enrolmentId?: string;
      lockKey?: string;
      userVerification: UserVerification;
    },
  ): Promise<{ id: string; challenge: string }> {
    const now = deps.clock.now();
    // Expired ceremonies of more than an hour ago are forgotten by whoever starts a new one.
    await repo.purgeCeremonies(db, new Date(now.getTime() - 3_600_000).toISOString());
    const challenge = newSecret();
    const id = deps.ids.next();
    await repo.insertCeremony(db, {
      id,
      purpose: input.purpose,
      challenge_hash: digestOf(challenge),
      account_id: input.accountId ?? null,
      enrolment_id: input.enrolmentId ?? null,
      lock_key: input.lockKey ?? null,
      user_verification: input.userVerification,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + deps.signIn.challengeTtlMs).toISOString(),
      used_at: null,
    });
    return { id, challenge };
  }

  /** Spends a ceremony of this purpose or throws CEREMONY_INVALID. */
  async function take(id: string, purpose: repo.CeremonyPurpose): Promise<repo.CeremonyRow> {
    const row = await repo.takeCeremony(deps.db, id, purpose, deps.clock.now().toISOString());
    if (!row) throw E.ceremonyInvalid();
    return row;
  }

  return { begin, take };
}

export type Ceremonies = ReturnType<typeof createCeremonies>;
