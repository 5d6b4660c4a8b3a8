import type { VigieClient } from './client.js';
import type { VigieHost } from './host.js';
import type { PanelMember } from './panel.js';
import { PasskeyAuthenticator } from './passkey-authenticator.js';
import type { Managed } from './plan.js';
import type { Random } from './random.js';
import { actWithStepUp, enrolFromMail, errorCode, USER_AGENTS, type Browser } from './sessions.js';
import type { Staff, World } from './world.js';

/** What the account managers' work needs of the run. */
export interface ManagementContext {
  readonly world: World;
  readonly client: VigieClient;
  readonly host: VigieHost;
  readonly rnd: Random;
  readonly panel: Map<number, PanelMember>;
  readonly departed: Set<number>;
  readonly honest: { requests: number; departures: number; newHires: number };
  readonly deny: (reason: string) => void;
  readonly now: () => number;
  /** The person's live session, signed in (or enrolled) when needed. */
  readonly sessionOf: (m: Staff) => Promise<PanelMember | undefined>;
}

/**
 * An account manager's act through their own session: a leaver disabled, or a newcomer created,
 * given the agent role, approved by a colleague (four-eyes) and enrolled from the mailed link.
 * Disabling and approving need a step-up, which they give with their own passkey.
 */
export async function manage(ctx: ManagementContext, item: Managed): Promise<void> {
  const { world, client, host, rnd, panel, departed, honest, deny, now, sessionOf } = ctx;
  const manager = world.staff[item.manager]!;
  const session = await sessionOf(manager);
  if (!session) return;
  const s = world.structures[manager.structure]!;
  honest.requests += 1;
  if (item.kind === 'departure') {
    const leaver = world.staff[item.target!]!;
    const res = await actWithStepUp(
      client,
      session.browser,
      session.passkey,
      'POST',
      `/api/v1/accounts/${leaver.accountId}/disable`,
      { reason: 'Départ de la structure' },
    );
    if (res.status !== 200) deny(`disable:${res.code ?? res.status}`);
    else {
      departed.add(leaver.index);
      honest.departures += 1;
    }
    return;
  }
  const email = `recrue.${world.staff.length}.${rnd.int(100, 999)}@${s.kind.replace('_', '-')}-${manager.structure}.fr`;
  const created = await client.call<{ id: string }>(session.browser, 'POST', '/api/v1/accounts', {
    organisationId: s.id,
    email,
    kind: 'human',
  });
  if (created.status !== 201) return deny(`create_account:${errorCode(created.body) ?? created.status}`);
  honest.requests += 1;
  const grant = await client.call(session.browser, 'POST', '/api/v1/roles/assignments', {
    accountId: created.body.id,
    roleId: 'agent',
    organisationId: s.id,
  });
  if (grant.status !== 201) deny(`grant_role:${errorCode(grant.body) ?? grant.status}`);
  const approver = s.staff
    .map((i) => world.staff[i]!)
    .find((m) => m.role === 'account_approver' && m.index !== manager.index);
  const approverSession = approver ? await sessionOf(approver) : undefined;
  if (!approverSession) return;
  honest.requests += 1;
  const approved = await actWithStepUp(
    client,
    approverSession.browser,
    approverSession.passkey,
    'POST',
    `/api/v1/accounts/${created.body.id}/approve`,
  );
  if (approved.status !== 200) return deny(`approve_account:${approved.code ?? approved.status}`);
  // The newcomer opens the mailed link and enrols a passkey; they start reading from the next day.
  const member: Staff = {
    index: world.staff.length,
    email,
    structure: manager.structure,
    role: 'agent',
    agent: true,
    dailyReads: 6,
    dormant: false,
    travelling: false,
    homeIp: manager.homeIp,
    homeDays: 0,
    caseload: [],
    leavesOnDay: -1,
    accountId: created.body.id,
  };
  const browser: Browser = { ip: s.officeIps[0]!, userAgent: USER_AGENTS[0] };
  const passkey = new PasskeyAuthenticator(host.origin);
  honest.requests += 1;
  let enrolled = false;
  try {
    enrolled = await enrolFromMail(client, host.mail, browser, email, passkey);
  } catch {
    enrolled = false;
  }
  if (!enrolled) return deny('enrolment_failed');
  world.staff.push(member);
  s.staff.push(member.index);
  panel.set(member.index, { browser, passkey, authTime: now() });
  honest.newHires += 1;
}
