import type { Executor } from '../../db/database.js';

/** How a privileged holder can sign in and how strongly they are signed in now. */
export interface HolderAuthentication {
  readonly passkeys: {
    readonly count: number;
    /** Passkeys whose registration verified the user (PIN or biometric). */
    readonly userVerified: number;
    /** Not backup-eligible: the key claims to stay on its device. */
    readonly deviceBound: number;
    /** Backup-eligible: the key can be synced to other devices (at most AAL2). */
    readonly synced: number;
  };
  /** A confirmed, unrevoked TOTP credential. */
  readonly totp: boolean;
  /** Live sessions, most recently seen first (at most MAX_SESSIONS). */
  readonly sessions: ReadonlyArray<{
    readonly id: string;
    readonly method: string;
    readonly authLevel: string;
    readonly aal: string;
    readonly signedInAt: string;
    readonly lastSeenAt: string;
  }>;
}

const MAX_SESSIONS = 10;

type Session = HolderAuthentication['sessions'][number];
interface Building {
  passkeys: { count: number; userVerified: number; deviceBound: number; synced: number };
  totp: boolean;
  sessions: Session[];
}

/**
 * The sign-in methods and live sessions of a page of accounts: three queries for the whole page,
 * whatever its size. A session is live when not ended, before its absolute expiry and seen since
 * `idleSince` (the same rule the sign-in module applies).
 */
export async function authenticationOf(
  db: Executor,
  accountIds: readonly string[],
  at: { now: string; idleSince: string },
): Promise<Map<string, HolderAuthentication>> {
  const out = new Map<string, HolderAuthentication>();
  if (accountIds.length === 0) return out;
  const ids = [...new Set(accountIds)];
  const [passkeys, totp, sessions] = await Promise.all([
    db
      .selectFrom('passkeys')
      .select(['account_id', 'user_verified', 'device_type'])
      .where('account_id', 'in', ids)
      .where('revoked_at', 'is', null)
      .execute(),
    db
      .selectFrom('totp_credentials')
      .select('account_id')
      .where('account_id', 'in', ids)
      .where('revoked_at', 'is', null)
      .where('confirmed_at', 'is not', null)
      .execute(),
    db
      .selectFrom('sessions')
      .select(['id', 'account_id', 'method', 'auth_level', 'aal', 'created_at', 'last_seen_at'])
      .where('account_id', 'in', ids)
      .where('ended_at', 'is', null)
      .where('absolute_expires_at', '>', at.now)
      .where('last_seen_at', '>', at.idleSince)
      .orderBy('last_seen_at', 'desc')
      .orderBy('id')
      .execute(),
  ]);
  const building = new Map<string, Building>();
  for (const id of ids) {
    const b: Building = {
      passkeys: { count: 0, userVerified: 0, deviceBound: 0, synced: 0 },
      totp: false,
      sessions: [],
    };
    building.set(id, b);
    out.set(id, b);
  }
  for (const p of passkeys) {
    const k = building.get(p.account_id)!.passkeys;
    k.count++;
    if (p.user_verified === 1) k.userVerified++;
    if (p.device_type === 'multiDevice') k.synced++;
    else k.deviceBound++;
  }
  for (const t of totp) building.get(t.account_id)!.totp = true;
  for (const s of sessions) {
    const list = building.get(s.account_id)!.sessions;
    if (list.length >= MAX_SESSIONS) continue;
    list.push({
      id: s.id,
      method: s.method,
      authLevel: s.auth_level,
      aal: s.aal,
      signedInAt: s.created_at,
      lastSeenAt: s.last_seen_at,
    });
  }
  return out;
}
