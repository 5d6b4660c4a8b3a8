import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { canOn, type Actor } from '../../shared/principal.js';
import type { VigieEvent } from '../../shared/event.js';
import { eventActorOf } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { findAccount, lockAccount } from '../identity/account.repository.js';
import { loadAccountGrants } from '../identity/principal.service.js';
import type { Ceremonies } from './ceremony.service.js';
import type { EnrolmentMailer } from './enrolment.mailer.js';
import * as repo from './enrolment.repository.js';
import { listLivePasskeys } from './passkey.repository.js';
import { presentPasskey, storeCredential, userVerificationFor, type Passkey } from './passkey.service.js';
import { registrationOptions, storedCredentialOf, verifyRegistration } from './passkey.webauthn.js';
import { SIGN_IN_ACTOR, type RequestFacts, type SignInDeps } from './sign-in.deps.js';
import { signInErrors as E } from './sign-in.errors.js';
import { digestOf, looksLikeSecret, newSecret } from './sign-in.secrets.js';
import type { SessionService } from './session.service.js';
import { strengthOf } from './session.strength.js';
import type { SignedIn } from './sign-in.service.js';
import { populationOfAccount } from './federation/federation.policy.js';

type Meta = RequestFacts['meta'];

export interface IssuedLink {
  readonly linkId: string;
  readonly accountId: string;
  readonly expiresAt: string;
  /** 'queued': mailed after commit; 'not_configured': no SMTP, an enrolment.not_mailed event says so. */
  readonly delivery: 'queued' | 'not_configured';
}

/**
 * Enrolment links: when an account becomes active (created active, or approved), Vigie mails it a
 * single-use link that registers a passkey without a session. The secret exists in the mail only:
 * stored as SHA-256, never returned by the API (an administrator who could read it could enrol its
 * own authenticator on someone else's account), never logged nor journaled.
 */
export function createEnrolmentService(
  deps: SignInDeps,
  parts: { ceremonies: Ceremonies; sessions: SessionService; mailer: EnrolmentMailer },
) {
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<unknown>) => {
    const p = work.then(
      () => undefined,
      (error: unknown) =>
        deps.logger.error({ err: { message: (error as Error).message } }, 'enrolment link not issued'),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  async function issue(
    actor: Actor,
    accountId: string,
    mode: 'activation' | 'reissue',
    meta?: Meta,
    since?: string,
  ): Promise<IssuedLink | undefined> {
    const issued = await runCommand(deps, async (ctx) => {
      await lockAccount(ctx.trx, deps.dialect, accountId);
      const account = await findAccount(ctx.trx, accountId);
      if (mode === 'reissue') {
        if (actor.kind === 'application') throw E.permissionDenied('account.create');
        if (
          !account ||
          (actor.kind === 'account' && !canOn(actor, 'account.read', account.organisation_path))
        )
          throw E.accountNotFound();
        if (actor.kind === 'account' && !canOn(actor, 'account.create', account.organisation_path))
          throw E.permissionDenied('account.create');
        if (account.status !== 'active' || account.kind !== 'human') throw E.accountNotEnrollable();
      } else {
        if (!account || account.status !== 'active' || account.kind !== 'human') return undefined;
        // Another process saw the same event first: one link per activation.
        const already = await ctx.trx
          .selectFrom('enrolment_links')
          .select('id')
          .where('account_id', '=', accountId)
          .where('created_at', '>=', since ?? ctx.now.toISOString())
          .executeTakeFirst();
        if (already) return undefined;
      }
      const at = ctx.now.toISOString();
      const revokedPrevious = await repo.revokeOpenLinks(ctx.trx, accountId, at);
      const secret = newSecret();
      const row: repo.EnrolmentLinkRow = {
        id: deps.ids.next(),
        account_id: accountId,
        secret_hash: digestOf(secret),
        created_by: actor.kind === 'account' ? actor.accountId : null,
        created_at: at,
        expires_at: new Date(ctx.now.getTime() + deps.signIn.enrolmentTtlHours * 3_600_000).toISOString(),
        used_at: null,
        revoked_at: null,
      };
      await repo.insertEnrolmentLink(ctx.trx, row);
      ctx.emit({
        kind: 'enrolment.issued',
        actor: eventActorOf(actor),
        target: { type: 'account', id: accountId },
        organisationId: account.organisation_id,
        outcome: 'success',
        data: { linkId: row.id, expiresAt: row.expires_at, revokedPrevious, reason: mode },
        ...(meta ? { context: meta } : {}),
      });
      return { row, secret, email: account.email, organisationId: account.organisation_id };
    });
    if (!issued) return undefined;
    // After commit: a mail server that is slow or down never holds the transaction.
    track(deliver(issued.row, issued.secret, issued.email, issued.organisationId));
    return {
      linkId: issued.row.id,
      accountId,
      expiresAt: issued.row.expires_at,
      delivery: deps.mail.smtpUrl ? 'queued' : 'not_configured',
    };
  }

  async function deliver(
    row: repo.EnrolmentLinkRow,
    secret: string,
    to: string,
    organisationId: string,
  ): Promise<void> {
    const outcome = await parts.mailer.send({
      to,
      link: `${deps.signIn.origin}/enrol#${secret}`,
      expiresAt: row.expires_at,
    });
    const kind =
      outcome.kind === 'sent'
        ? 'enrolment.mailed'
        : outcome.kind === 'failed'
          ? 'enrolment.mail_failed'
          : 'enrolment.not_mailed';
    await runCommand(deps, (ctx) => {
      ctx.emit({
        kind,
        actor: { type: 'system', id: SIGN_IN_ACTOR.id },
        target: { type: 'account', id: row.account_id },
        organisationId,
        outcome: outcome.kind === 'sent' ? 'success' : 'failure',
        ...(outcome.kind === 'failed' ? { reason: outcome.code } : {}),
        ...(outcome.kind === 'not_configured' ? { reason: 'SMTP_NOT_CONFIGURED' } : {}),
        data: {
          linkId: row.id,
          ...(outcome.kind === 'not_configured' ? {} : { attempts: outcome.attempts }),
        },
      });
      return Promise.resolve();
    });
  }

  /** Follows the event stream: an account that became active gets its first link. */
  function onEvents(events: readonly VigieEvent[]): void {
    for (const e of events) {
      if (e.outcome !== 'success' || e.target?.type !== 'account') continue;
      const activeOnCreation = e.kind === 'account.created' && e.data?.status === 'active';
      if (activeOnCreation || e.kind === 'account.approved')
        track(issue(SIGN_IN_ACTOR, e.target.id, 'activation', undefined, e.time));
    }
  }

  async function usableLink(token: string): Promise<repo.EnrolmentLinkRow> {
    if (!looksLikeSecret(token)) throw E.enrolmentLinkInvalid();
    const link = await repo.findUsableLink(deps.db, digestOf(token), deps.clock.now().toISOString());
    if (!link) throw E.enrolmentLinkInvalid();
    return link;
  }

  async function begin(
    token: string,
  ): Promise<{ ceremonyId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    const link = await usableLink(token);
    const loaded = await loadAccountGrants(deps.db, link.account_id, deps.clock.now().toISOString());
    const account = await findAccount(deps.db, link.account_id);
    if (!loaded || !account) throw E.enrolmentLinkInvalid();
    const userVerification = userVerificationFor(loaded.grants);
    const { id, challenge } = await parts.ceremonies.begin(deps.db, {
      purpose: 'enrolment',
      accountId: link.account_id,
      enrolmentId: link.id,
      userVerification,
    });
    const live = await listLivePasskeys(deps.db, link.account_id);
    const options = await registrationOptions(deps.signIn, {
      challenge,
      userId: link.account_id,
      userName: account.email,
      exclude: live.map(storedCredentialOf),
      userVerification,
    });
    return { ceremonyId: id, options };
  }

  /** Registers the passkey, spends the link and signs the person in, in one transaction. */
  async function complete(
    input: { ceremonyId: string; response: RegistrationResponseJSON; name: string },
    request: RequestFacts,
  ): Promise<SignedIn & { passkey: Passkey }> {
    const ceremony = await parts.ceremonies.take(input.ceremonyId, 'enrolment');
    const credential = await verifyRegistration(deps.signIn, {
      response: input.response,
      challengeHash: ceremony.challenge_hash,
      requireUserVerification: ceremony.user_verification === 'required',
      population: await populationOfAccount(deps, ceremony.account_id!),
    });
    return runCommand(deps, async (ctx) => {
      const accountId = ceremony.account_id!;
      if (
        !ceremony.enrolment_id ||
        !(await repo.markLinkUsed(ctx.trx, ceremony.enrolment_id, ctx.now.toISOString()))
      )
        throw E.enrolmentLinkInvalid();
      const loaded = await loadAccountGrants(ctx.trx, accountId, ctx.now.toISOString());
      if (!loaded) throw E.enrolmentLinkInvalid();
      const passkey = await storeCredential(
        ctx,
        deps,
        { accountId, organisationId: loaded.organisationId, credential, name: input.name, via: 'enrolment' },
        request.meta,
      );
      const strength = strengthOf({
        userVerified: credential.userVerified,
        deviceType: credential.deviceType,
      });
      ctx.emit({
        kind: 'enrolment.used',
        actor: { type: 'account', id: accountId },
        target: { type: 'account', id: accountId },
        organisationId: loaded.organisationId,
        outcome: 'success',
        data: { linkId: ceremony.enrolment_id, passkeyId: passkey.id },
        context: request.meta,
      });
      const signedIn = await parts.sessions.signIn(ctx, {
        accountId,
        organisationId: loaded.organisationId,
        method: 'passkey',
        credentialId: passkey.id,
        strength,
        request,
        data: {
          method: 'passkey',
          via: 'enrolment',
          passkeyId: passkey.id,
          userVerified: credential.userVerified,
        },
      });
      return { ...signedIn, passkey: presentPasskey(passkey) };
    });
  }

  return {
    issue,
    reissue: (actor: Actor, accountId: string, meta: Meta) => issue(actor, accountId, 'reissue', meta),
    onEvents,
    begin,
    complete,
    /** Waits for the links and mails under way (for a clean stop). */
    settle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

export type EnrolmentService = ReturnType<typeof createEnrolmentService>;
