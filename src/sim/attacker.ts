import type { AttackEnvironment, AttackOutcome, Foothold } from './attack-types.js';
import { evaluateAll, type Evaluation } from './business-apps.js';
import { createAccounts } from './escalation.js';
import type { AppHandle } from './provision.js';
import { Random } from './random.js';
import type { Scenario } from './scenario.js';
import { sessionAlive, signInWithPasskey, type Browser } from './sessions.js';

/**
 * The adaptive attacker of one scenario. It tries its way in (the stolen credential, then its next
 * best moves), escalates when the scenario says so, then reads at its pace through the business
 * application or the partner portal, and reacts to what Vigie answers: it narrows to what its
 * foothold may see after repeated out-of-scope refusals, waits out budgets, steals a fresh session
 * when one ends and switches account when one is blocked. Everything it learns comes from answers.
 */
export type { AttackEnvironment, AttackOutcome } from './attack-types.js';
export { STEP_UP_LAYER } from './attack-types.js';

const FINE_STEPS_AFTER_CHANGE_MS = 30 * 60_000;

const BLOCKING = new Set([
  'budget_frozen',
  'subject_inactive',
  'step_up_required',
  'stronger_authentication_required',
  'application_inactive',
]);

export class Attacker {
  readonly outcome: AttackOutcome;
  readonly startsAt: number;
  readonly endsAt: number;
  #phase: 'access' | 'escalate' | 'harvest' | 'done' = 'access';
  #victims: number[] = [];
  #victimCursor = 0;
  #moveCursor = 0;
  #footholds: Foothold[] = [];
  #targets: string[] = [];
  #targetCursor = 0;
  #wakeAt: number;
  #rnd: Random;
  #created = false;
  #credit = 0;
  #changedAt = -Infinity;

  constructor(
    readonly scenario: Scenario,
    readonly env: AttackEnvironment,
    startsAt: number,
    seed: number,
  ) {
    this.startsAt = startsAt;
    this.endsAt = startsAt + scenario.durationHours * 3_600_000;
    this.#wakeAt = startsAt;
    this.#rnd = new Random(seed).fork(scenario.name);
    this.outcome = {
      scenario,
      attempted: new Set(),
      disclosed: new Set(),
      timeline: [],
      layers: new Map(),
      entities: new Set(scenario.network.ips),
      log: [],
    };
    const candidates = env.world.staff.filter(
      (m) =>
        env.world.structures[m.structure]!.kind === scenario.victims.structureKind &&
        m.role === scenario.victims.role &&
        !m.dormant &&
        m.leavesOnDay < 0 &&
        (scenario.victims.role !== 'agent' || m.agent),
    );
    // Victims are people who sign in through Vigie (their session is what an infostealer finds).
    const signedIn = candidates.filter((m) => env.signsIn(m.index));
    const pool = signedIn.length >= scenario.victims.count ? signedIn : candidates;
    for (let i = 0; i < scenario.victims.count && pool.length > 0; i += 1) {
      const pick = pool.splice(Math.floor(this.#rnd.next() * pool.length), 1)[0]!;
      this.#victims.push(pick.index);
      this.outcome.entities.add(pick.accountId!);
    }
    // What the attacker goes after: the whole register, in the order searches would surface it.
    const all = env.world.people.slice();
    for (let i = all.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.#rnd.next() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    this.#targets = all;
  }

  /** The honest people whose credentials or sessions this attacker goes after. */
  get victims(): readonly number[] {
    return this.#victims;
  }

  get wakeAt(): number {
    return this.#phase === 'done' ? Infinity : this.#wakeAt;
  }

  get active(): boolean {
    return this.#phase !== 'done' && this.env.now() >= this.startsAt;
  }

  #ip(): string {
    return this.#rnd.pick(this.scenario.network.ips);
  }

  /**
   * Whether the simulator should step finely (10 s): for half an hour after anything changed for
   * the attacker (a foothold, a refusal, a wait); a minute-long step while it reads undisturbed.
   */
  needsFineSteps(at: number): boolean {
    return at - this.#changedAt < FINE_STEPS_AFTER_CHANGE_MS;
  }

  #note(what: string, layer?: string): void {
    this.#changedAt = this.env.now();
    this.outcome.log.push({ at: this.env.now(), what });
    if (layer) this.outcome.layers.set(layer, (this.outcome.layers.get(layer) ?? 0) + 1);
  }

  #act(): void {
    if (this.outcome.firstActAt === undefined) this.#changedAt = this.env.now();
    this.outcome.firstActAt ??= this.env.now();
  }

  #finish(reason: string): void {
    this.#phase = 'done';
    this.outcome.endedBy = reason;
    this.outcome.endedAt = this.env.now();
    this.#note(`campaign over: ${reason}`);
  }

  #inHours(now: number): boolean {
    const hours = this.scenario.pace.hours;
    if (!hours) return true;
    const h = parisHour(now);
    return h >= hours[0] && h < hours[1];
  }

  /** One step of the attacker at the current simulated time. */
  async step(tickMs: number): Promise<void> {
    const now = this.env.now();
    if (now >= this.endsAt && this.#phase !== 'done') return this.#finish('scenario time over');
    if (this.#phase === 'access') await this.#tryAccess();
    if (this.#phase === 'escalate') await this.#escalate();
    if (this.#phase === 'harvest') {
      if (!this.#inHours(now)) {
        this.#wakeAt = now + 15 * 60_000;
        return;
      }
      await this.#harvest(tickMs);
    }
  }

  async #tryAccess(): Promise<void> {
    const now = this.env.now();
    while (this.#victimCursor < this.#victims.length) {
      const victim = this.env.world.staff[this.#victims[this.#victimCursor]!]!;
      const move = this.scenario.access[this.#moveCursor];
      if (move === undefined) {
        this.#victimCursor += 1;
        this.#moveCursor = 0;
        continue;
      }
      const browser: Browser = { ip: this.#ip(), userAgent: this.scenario.network.userAgent };
      this.#act();
      if (move === 'phished_credential') {
        // The victim gave away everything a phone call can get; a passkey is not among it.
        const res = await signInWithPasskey(this.env.client, browser, undefined, victim.email);
        if (res.status === 200) {
          this.#gain(victim.index, browser, 'phished credential');
          continue;
        }
        this.#note(
          `sign-in as ${victim.email} with the phished credential refused (${res.code ?? res.status})`,
          'passkey sign-in (phishing-resistant)',
        );
        this.#moveCursor += 1;
        continue;
      }
      // stolen_session_cookie: what an infostealer copied from the victim's browser, replayed from the
      // attacker's network; infected_workstation: the same session driven through the victim's own
      // machine (a remote-control implant), so from the victim's address and browser.
      const honest = this.env.browserOf(victim.index);
      if (!honest?.cookie) {
        this.#note(`no live session of ${victim.email} to steal; waiting`, 'no live session to steal');
        this.#wakeAt = now + this.scenario.adapt.retryAccessAfterMinutes * 60_000;
        if (this.#footholds.length > 0)
          this.#phase = this.#created || !this.scenario.createAccounts ? 'harvest' : 'escalate';
        return;
      }
      if (move === 'infected_workstation') {
        browser.ip = honest.ip;
        browser.userAgent = honest.userAgent;
      }
      browser.cookie = honest.cookie;
      if (await sessionAlive(this.env.client, browser)) {
        this.#gain(
          victim.index,
          browser,
          move === 'infected_workstation' ? 'its infected workstation' : 'stolen session cookie',
          move === 'infected_workstation',
        );
        continue;
      }
      this.#note(
        `${move === 'infected_workstation' ? 'session driven through the workstation' : 'stolen session'} of ${victim.email} refused from ${browser.ip}`,
        move === 'infected_workstation' ? 'session refused' : 'session bound to its network and browser',
      );
      if (move === 'infected_workstation') {
        this.#wakeAt = now + this.scenario.adapt.retryAccessAfterMinutes * 60_000;
        return;
      }
      this.#moveCursor += 1;
    }
    if (this.#footholds.length === 0) {
      this.#finish('every access move refused');
      return;
    }
    this.#phase = this.scenario.createAccounts && !this.#created ? 'escalate' : 'harvest';
  }

  #gain(victim: number, browser: Browser, how: string, throughWorkstation = false): void {
    const member = this.env.world.staff[victim]!;
    this.#footholds.push({
      label: `${member.email} (${how})`,
      accountId: member.accountId!,
      structure: member.structure,
      browser,
      email: member.email,
      victim,
      throughWorkstation,
      thefts: 1,
      authTime: this.env.now(),
      narrowed: this.scenario.targets === 'own_structure',
      denialsInARow: 0,
      sleepUntil: 0,
      done: !member.agent && this.scenario.createAccounts === undefined,
    });
    this.#note(`foothold: ${member.email} by ${how}`);
    this.#victimCursor += 1;
    this.#moveCursor = 0;
  }

  async #escalate(): Promise<void> {
    this.#created = true;
    const gained = await createAccounts(
      {
        env: this.env,
        scenario: this.scenario,
        outcome: this.outcome,
        rnd: this.#rnd,
        note: (what, layer) => this.#note(what, layer),
        act: () => this.#act(),
        ip: () => this.#ip(),
      },
      this.#footholds[0]!,
    );
    this.#footholds.push(...gained);
    this.#phase = 'harvest';
  }

  #appFor(foothold: Foothold): AppHandle {
    const structure = this.env.world.structures[foothold.structure]!;
    if (this.scenario.via === 'partner_portal') {
      const app = this.env.apps.partnerApps.get(foothold.structure);
      if (app) return app;
    }
    return structure.kind === 'mission_locale'
      ? this.env.apps.businessApps.missionsLocales
      : this.env.apps.businessApps.franceTravail;
  }

  #nextTargets(foothold: Foothold, n: number): string[] {
    if (foothold.narrowed) {
      const people = this.env.world.structures[foothold.structure]!.people;
      const out: string[] = [];
      const known = this.outcome.attempted;
      for (const p of people) {
        const id = this.env.world.people[p]!;
        if (!known.has(id)) out.push(id);
        if (out.length >= n) break;
      }
      return out;
    }
    const out = this.#targets.slice(this.#targetCursor, this.#targetCursor + n);
    this.#targetCursor += n;
    return out;
  }

  async #harvest(tickMs: number): Promise<void> {
    const now = this.env.now();
    const live = this.#footholds.filter((f) => !f.done);
    if (live.length === 0) return this.#finish(this.outcome.endedBy ?? 'no usable account left');
    // The pace is the attacker's, shared by its footholds; fractions carry over to the next step.
    this.#credit += (this.scenario.pace.perMinute * tickMs) / 60_000;
    const awake = live.filter((f) => f.sleepUntil <= now);
    const perFoothold = awake.length > 0 ? Math.floor(this.#credit / awake.length) : 0;
    if (perFoothold > 0) this.#credit -= perFoothold * awake.length;
    else if (awake.length === 0) this.#credit = 0;
    for (const f of perFoothold > 0 ? awake : []) {
      // The business application checks the person's Vigie session before serving anything.
      this.#act();
      if (!(await sessionAlive(this.env.client, f.browser))) {
        if (!(await this.#recover(f))) continue;
      }
      const ids = this.#nextTargets(f, perFoothold);
      if (ids.length === 0) {
        f.done = true;
        this.#note(`${f.label}: nothing left in reach`);
        continue;
      }
      const items: Evaluation[] = ids.map((id) => ({
        subject: { type: 'account', id: f.accountId },
        action: { name: 'read' },
        resource: { type: 'record', id },
        context: {
          auth_level: 'phishing_resistant',
          auth_time: new Date(f.authTime).toISOString(),
          ip: f.browser.ip,
          user_agent: f.browser.userAgent,
        },
      }));
      const app = this.#appFor(f);
      // A partner portal driven by the attacker is its vehicle; a business application serves everyone.
      if (this.scenario.via === 'partner_portal') this.outcome.entities.add(app.id);
      const verdicts = await evaluateAll(this.env.client, app, items);
      for (let i = 0; i < ids.length; i += 1) {
        const id = ids[i]!;
        const v = verdicts[i]!;
        this.outcome.attempted.add(id);
        if (v.decision) {
          f.denialsInARow = 0;
          if (!this.outcome.disclosed.has(id)) {
            this.outcome.disclosed.add(id);
            this.outcome.lastDisclosureAt = now;
          }
          continue;
        }
        const reason = v.reasons[0] ?? 'denied';
        this.#changedAt = now;
        this.outcome.layers.set(`policy: ${reason}`, (this.outcome.layers.get(`policy: ${reason}`) ?? 0) + 1);
        if (reason === 'not_permitted') {
          // The account may read nothing at all (no advisor role): after enough tries, drop it.
          f.denialsInARow += 1;
          if (f.denialsInARow >= this.scenario.adapt.narrowAfterDenials) {
            f.done = true;
            this.#note(`${f.label}: ${f.denialsInARow} refusals (not_permitted), switching account`);
            break;
          }
        } else if (reason === 'not_in_caseload' || reason === 'not_enrolled') {
          f.denialsInARow += 1;
          if (!f.narrowed && f.denialsInARow >= this.scenario.adapt.narrowAfterDenials) {
            f.narrowed = true;
            this.#note(
              `${f.label}: ${f.denialsInARow} refusals in a row, now reading what its structure follows`,
            );
          }
        } else if (reason === 'budget_exhausted') {
          f.sleepUntil = now + this.scenario.adapt.waitMinutesOnBudget * 60_000;
          this.#note(`${f.label}: budget exhausted, waiting ${this.scenario.adapt.waitMinutesOnBudget} min`);
          break;
        } else if (reason === 'step_up_required' && f.passkey) {
          const res = await signInWithPasskey(this.env.client, f.browser, f.passkey, f.email);
          if (res.status === 200) {
            f.authTime = now;
            this.#note(`${f.label}: step-up asked, answered with its own passkey`);
          }
          break;
        } else if (BLOCKING.has(reason)) {
          f.done = true;
          this.outcome.endedBy = `policy: ${reason}`;
          this.#note(`${f.label}: blocked (${reason}), switching account`);
          break;
        }
      }
      this.outcome.timeline.push([now, this.outcome.disclosed.size]);
    }
    this.#wakeAt = now + tickMs;
  }

  /** The session ended: steal a fresh one from the same person, or sign in again with its own passkey. */
  async #recover(f: Foothold): Promise<boolean> {
    if (f.passkey) {
      const res = await signInWithPasskey(this.env.client, f.browser, f.passkey, f.email);
      if (res.status === 200) {
        f.authTime = this.env.now();
        return true;
      }
      f.done = true;
      this.outcome.endedBy = `sign-in refused: ${res.code ?? res.status}`;
      this.#note(
        `${f.label}: sign-in refused (${res.code ?? res.status})`,
        `sign-in refused: ${res.code ?? res.status}`,
      );
      return false;
    }
    this.outcome.layers.set('session ended', (this.outcome.layers.get('session ended') ?? 0) + 1);
    if (f.thefts >= this.scenario.adapt.maxSessionThefts) {
      f.done = true;
      this.outcome.endedBy = 'session ended (no more thefts)';
      this.#note(`${f.label}: session ended ${f.thefts} times, giving the account up`);
      return false;
    }
    const honest = f.victim === undefined ? undefined : this.env.browserOf(f.victim);
    if (honest?.cookie && honest.cookie !== f.browser.cookie) {
      f.browser.cookie = honest.cookie;
      if (f.throughWorkstation) {
        f.browser.ip = honest.ip;
        f.browser.userAgent = honest.userAgent;
      }
      f.thefts += 1;
      if (await sessionAlive(this.env.client, f.browser)) {
        this.#note(`${f.label}: stole a fresh session`);
        return true;
      }
    }
    f.sleepUntil = this.env.now() + this.scenario.adapt.retryAccessAfterMinutes * 60_000;
    return false;
  }
}

const PARIS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  hour: '2-digit',
  hourCycle: 'h23',
});

export function parisHour(ms: number): number {
  return Number(PARIS.format(new Date(ms)));
}
