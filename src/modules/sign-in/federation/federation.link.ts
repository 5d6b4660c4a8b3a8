import type { FederationProviderConfig } from '../../../config.sign-in.js';
import type { Grant } from '../../../shared/principal.js';
import type { CommandContext } from '../../events/command.js';
import { canonicalEmail } from '../../identity/email.js';
import { loadAccountGrants } from '../../identity/principal.service.js';
import { SIGN_IN_EVENT_ACTOR, type RequestFacts, type SignInDeps } from '../sign-in.deps.js';
import type { UpstreamProof } from './federation.client.js';
import { refused } from './federation.errors.js';
import * as repo from './federation.repository.js';

export interface FoundAccount {
  readonly accountId: string;
  readonly organisationId: string;
  readonly organisationKind: string;
  readonly grants: readonly Grant[];
  /** Undefined on a first login: the link the rule makes, written with the sign-in. */
  readonly link: repo.FederatedIdentityRow | undefined;
  readonly email: string;
  readonly siret: string | null;
}

/**
 * The Vigie account an upstream identity stands for. A linked identity is found by its link alone
 * (its e-mail claim must not have changed); an unlinked one by the operator's rule, and only when
 * the account is active, approved (vetted by a second person or created by a platform
 * administrator), human, and not yet linked to another identity of this issuer.
 */
export async function accountFor(
  deps: Pick<SignInDeps, 'db' | 'clock'>,
  provider: FederationProviderConfig,
  proof: UpstreamProof,
  tx: repo.FederationTransactionRow,
  seen: (accountId: string) => void,
): Promise<FoundAccount> {
  const email = proof.email === undefined ? undefined : canonicalEmail(proof.email);
  const link = await repo.findLinkBySubject(deps.db, proof.issuer, proof.subject);
  let candidate: repo.LinkCandidate | undefined;
  if (link) {
    seen(link.account_id);
    if (link.revoked_at !== null) throw refused('FEDERATED_IDENTITY_REVOKED');
    if (email !== link.email) throw refused('FEDERATED_EMAIL_CHANGED');
    candidate = await repo.findCandidate(deps.db, link.account_id);
  } else {
    if (email === undefined) throw refused('FEDERATED_ACCOUNT_UNKNOWN');
    if (provider.requireEmailVerified && !proof.emailVerified) throw refused('FEDERATED_EMAIL_UNVERIFIED');
    candidate = await repo.findCandidateByEmail(deps.db, email);
    if (!candidate) throw refused('FEDERATED_ACCOUNT_UNKNOWN');
    seen(candidate.id);
  }
  if (
    !candidate ||
    candidate.kind !== 'human' ||
    candidate.status !== 'active' ||
    candidate.approved_at === null
  )
    throw refused('FEDERATED_ACCOUNT_INACTIVE');
  const loaded = await loadAccountGrants(deps.db, candidate.id, deps.clock.now().toISOString());
  if (!loaded) throw refused('FEDERATED_ACCOUNT_INACTIVE');
  // Checked at every login, not only the first: someone who moved to another structure stops here.
  if (provider.linkRule === 'email_siret' && (candidate.siret === null || proof.siret !== candidate.siret))
    throw refused('FEDERATED_SIRET_MISMATCH');
  if (!link && (await repo.findLinkOfAccount(deps.db, proof.issuer, candidate.id)))
    throw refused('FEDERATED_ACCOUNT_ALREADY_LINKED');
  // A second round must come back with the identity the first one found.
  if (tx.account_id !== null && tx.account_id !== candidate.id) throw refused('FEDERATED_ACCOUNT_MISMATCH');
  return {
    accountId: candidate.id,
    organisationId: loaded.organisationId,
    organisationKind: candidate.organisation_kind,
    grants: loaded.grants,
    link,
    email,
    siret: proof.siret ?? null,
  };
}

/** Writes the link at a first login (journaled `federation.linked`), or stamps its use; returns its id. */
export async function linkOrTouch(
  deps: Pick<SignInDeps, 'ids'>,
  ctx: CommandContext,
  provider: FederationProviderConfig,
  proof: UpstreamProof,
  found: FoundAccount,
  meta: RequestFacts['meta'],
): Promise<string> {
  const at = ctx.now.toISOString();
  if (found.link) {
    await repo.touchLink(ctx.trx, found.link.id, at);
    return found.link.id;
  }
  const id = deps.ids.next();
  await repo.insertLink(ctx.trx, {
    id,
    provider: provider.id,
    issuer: proof.issuer,
    subject: proof.subject,
    account_id: found.accountId,
    rule: provider.linkRule,
    email: found.email,
    siret: found.siret,
    linked_at: at,
    last_login_at: at,
    revoked_at: null,
    revoked_by: null,
  });
  ctx.emit({
    kind: 'federation.linked',
    // Made by the operator's rule at the person's first federated login, not by anyone's command.
    actor: SIGN_IN_EVENT_ACTOR,
    target: { type: 'account', id: found.accountId },
    organisationId: found.organisationId,
    outcome: 'success',
    data: {
      federatedIdentityId: id,
      provider: provider.id,
      issuer: proof.issuer,
      subject: proof.subject,
      rule: provider.linkRule,
    },
    context: meta,
  });
  return id;
}
