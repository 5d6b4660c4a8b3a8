import type { AttackEnvironment, AttackOutcome, Foothold } from './attack-types.js';
import { STEP_UP_LAYER } from './attack-types.js';
import { PasskeyAuthenticator } from './passkey-authenticator.js';
import type { Random } from './random.js';
import type { Scenario } from './scenario.js';
import { actWithStepUp, enrolFromMail, errorCode, type Browser } from './sessions.js';

/** What the escalation needs of the attacker playing it. */
export interface EscalationContext {
  readonly env: AttackEnvironment;
  readonly scenario: Scenario;
  readonly outcome: AttackOutcome;
  readonly rnd: Random;
  note(what: string, layer?: string): void;
  act(): void;
  ip(): string;
}

/**
 * The delegated administrator's escalation (`createAccounts`): with the manager's session, create
 * accounts in its structure and grant them the agent role; approve them (Vigie asks the session for
 * a step-up, which a stolen session cannot give without the victim's authenticator; four-eyes
 * refuses a self-approval anyway), else have a colleague approve them when the scenario says so;
 * then enrol the attacker's own passkeys from the mail. Returns the footholds gained.
 */
export async function createAccounts(ctx: EscalationContext, manager: Foothold): Promise<Foothold[]> {
  const spec = ctx.scenario.createAccounts!;
  const gained: Foothold[] = [];
  const created: { id: string; email: string }[] = [];
  for (let i = 0; i < spec.count; i += 1) {
    const email = `x${ctx.rnd.int(1000, 9999)}.${i}@${spec.emailDomain}`;
    ctx.act();
    const res = await ctx.env.client.call<{ id: string; status: string }>(
      manager.browser,
      'POST',
      '/api/v1/accounts',
      {
        organisationId: ctx.env.world.structures[manager.structure]!.id,
        email,
        kind: 'human',
      },
    );
    if (res.status !== 201) {
      ctx.note(
        `account creation refused (${errorCode(res.body) ?? res.status})`,
        `account creation refused: ${errorCode(res.body) ?? res.status}`,
      );
      continue;
    }
    ctx.outcome.entities.add(res.body.id);
    created.push({ id: res.body.id, email });
    ctx.note(`created ${email}: ${res.body.status}`);
    const grant = await ctx.env.client.call(manager.browser, 'POST', '/api/v1/roles/assignments', {
      accountId: res.body.id,
      roleId: 'agent',
      organisationId: ctx.env.world.structures[manager.structure]!.id,
    });
    if (grant.status !== 201)
      ctx.note(
        `agent role refused (${errorCode(grant.body) ?? grant.status})`,
        `role grant refused: ${errorCode(grant.body) ?? grant.status}`,
      );
  }
  for (const account of created) {
    // Vigie asks the manager's session for a step-up: the attacker, driving a stolen cookie, has no
    // authenticator of the victim's and answers with a key of its own.
    const own = await actWithStepUp(
      ctx.env.client,
      manager.browser,
      manager.passkey,
      'POST',
      `/api/v1/accounts/${account.id}/approve`,
    );
    let active = own.status === 200;
    const stepUpRefused = own.stepUp !== undefined && own.stepUp.status !== 200;
    if (!active) {
      if (stepUpRefused)
        ctx.note(
          `step-up for the approval refused (${own.stepUp!.code ?? own.stepUp!.status})`,
          STEP_UP_LAYER,
        );
      else
        ctx.note(`self-approval refused (${own.code ?? own.status})`, `four-eyes: ${own.code ?? own.status}`);
      if (spec.fallback === 'colleague_approves') {
        const colleague = await ctx.env.colleagueApprove(manager.structure, account.id);
        active = colleague.status === 200;
        ctx.note(
          active
            ? `a colleague approved ${account.email}`
            : `the colleague's approval was refused (${colleague.code ?? colleague.status})`,
          active ? undefined : `colleague approval refused: ${colleague.code ?? colleague.status}`,
        );
      }
    }
    if (!active) {
      // Nothing else got the account through: the step-up is what stopped this escalation.
      if (stepUpRefused) ctx.outcome.endedBy = STEP_UP_LAYER;
      continue;
    }
    const browser: Browser = { ip: ctx.ip(), userAgent: ctx.scenario.network.userAgent };
    const passkey = new PasskeyAuthenticator(ctx.env.origin);
    let enrolled = false;
    try {
      enrolled = await enrolFromMail(ctx.env.client, ctx.env.mail, browser, account.email, passkey);
    } catch {
      enrolled = false;
    }
    if (!enrolled) {
      ctx.note(`enrolment of ${account.email} failed`, 'enrolment refused');
      continue;
    }
    gained.push({
      label: `${account.email} (created, own passkey)`,
      accountId: account.id,
      structure: manager.structure,
      browser,
      passkey,
      email: account.email,
      thefts: 0,
      authTime: ctx.env.now(),
      narrowed: false,
      denialsInARow: 0,
      sleepUntil: 0,
      done: false,
    });
    ctx.note(`foothold: ${account.email} with its own passkey`);
  }
  return gained;
}
