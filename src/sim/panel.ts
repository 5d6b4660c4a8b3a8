import { mapLimit, type Caller, type VigieClient } from './client.js';
import type { VigieHost } from './host.js';
import { PasskeyAuthenticator } from './passkey-authenticator.js';
import { progressBar } from './progress.js';
import { Random } from './random.js';
import { enrolFromMail, USER_AGENTS, type Browser } from './sessions.js';
import type { Staff, World } from './world.js';

export interface PanelMember {
  readonly browser: Browser;
  readonly passkey: PasskeyAuthenticator;
  authTime: number;
  /** When the application last checked the session with Vigie (it caches the answer a few minutes). */
  checkedAt?: number;
  checkedIp?: string;
}

/** Structures of each kind whose staff sign in through Vigie every day (the sampled panel). */
export const PANEL_STRUCTURES_PER_KIND = 12;

/**
 * The people who sign in through Vigie with a passkey every working day and keep its console open:
 * in at most PANEL_STRUCTURES_PER_KIND structures of each kind (drawn at random; every structure in
 * a small world), their account managers and approvers, their first advisor and `panelShare` of the
 * others. Everyone else's decisions come through their business application with the same context;
 * a manager or approver elsewhere enrols a passkey the first time they must act through Vigie.
 */
export async function enrolPanel(
  host: VigieHost,
  client: VigieClient,
  world: World,
  options: { readonly seed: number; readonly panelShare: number; readonly protect?: boolean },
  rnd: Random,
) {
  const panel = new Map<number, PanelMember>();
  const sample = new Random(options.seed).fork('panel');
  const chosen = new Set<number>();
  const byKind = new Map<string, number[]>();
  world.structures.forEach((s, i) => byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), i]));
  for (const list of byKind.values()) {
    const pool = list.slice();
    while (pool.length > 0 && list.length - pool.length < PANEL_STRUCTURES_PER_KIND)
      chosen.add(pool.splice(sample.int(0, pool.length - 1), 1)[0]!);
  }
  // In each sampled structure at least one advisor signs in through Vigie, whatever the share.
  const firstAgent = new Set(
    world.structures.map((s) =>
      s.staff.find(
        (i) =>
          world.staff[i]!.role === 'agent' && !world.staff[i]!.dormant && world.staff[i]!.leavesOnDay < 0,
      ),
    ),
  );
  const members = world.staff.filter(
    (m) =>
      chosen.has(m.structure) &&
      !m.dormant &&
      (m.role !== 'agent' || firstAgent.has(m.index) || rnd.chance(options.panelShare)),
  );
  const run = options.protect === undefined ? '' : options.protect ? ' (protected)' : ' (unprotected)';
  const bar = progressBar(`enrol passkeys${run}`, members.length, 'people');
  const enrolled = await mapLimit(
    members,
    8,
    (m) => enrolOne(host, client, world, m),
    (n) => bar.tick(n),
  );
  // In the members' order, not the order the enrolments ended in: each day's plan draws its random
  // numbers person by person in the panel's order, so the same seed must give the same order.
  members.forEach((m, i) => {
    const member = enrolled[i];
    if (member) panel.set(m.index, member);
  });
  bar.finish(`${chosen.size} of ${world.structures.length} structures`);
  return { panel, structures: chosen.size };
}

/** A person opens the enrolment link an operator had mailed them and registers a passkey. */
export async function enrolOne(
  host: VigieHost,
  client: VigieClient,
  world: World,
  m: Staff,
): Promise<PanelMember | undefined> {
  const operator: Caller = { ip: '127.0.0.1', token: host.operatorToken };
  const browser: Browser = {
    ip: world.structures[m.structure]!.officeIps[0]!,
    userAgent: USER_AGENTS[m.index % USER_AGENTS.length]!,
  };
  await client.expect(operator, 'POST', `/api/v1/accounts/${m.accountId}/enrolment-link`);
  const passkey = new PasskeyAuthenticator(host.origin);
  if (!(await enrolFromMail(client, host.mail, browser, m.email, passkey))) return undefined;
  return { browser, passkey, authTime: host.clock.now().getTime() };
}
