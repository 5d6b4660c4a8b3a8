import type { FederationPopulation, FederationProviderConfig } from '../../../config.sign-in.js';
import type { Grant } from '../../../shared/principal.js';
import type { Executor } from '../../../db/database.js';
import type { Clock } from '../../../shared/clock.js';
import { loadAccountGrants } from '../../identity/principal.service.js';
import { totpRefusal } from '../totp.policy.js';
import { organisationKindOf } from '../totp.repository.js';

/**
 * The population an account belongs to, by the very rule that keeps TOTP from privileged, agent and
 * partner accounts (totp.policy.ts): any privileged role first, then the agent role, then a partner
 * organisation; anyone else is `other`.
 */
export function populationOf(facts: {
  readonly grants: readonly Pick<Grant, 'roleId' | 'privileged'>[];
  readonly organisationKind: string;
}): FederationPopulation {
  switch (totpRefusal({ enabled: true, ...facts })) {
    case 'privileged_role':
      return 'privileged';
    case 'agent_role':
      return 'agent';
    case 'partner_organisation':
      return 'partner';
    default:
      return 'other';
  }
}

/** The population of an account as it stands now (its live grants, its organisation's kind). */
export async function populationOfAccount(
  deps: { readonly db: Executor; readonly clock: Clock },
  accountId: string,
): Promise<FederationPopulation> {
  const loaded = await loadAccountGrants(deps.db, accountId, deps.clock.now().toISOString());
  return populationOf({
    grants: loaded?.grants ?? [],
    organisationKind: (await organisationKindOf(deps.db, accountId)) ?? '',
  });
}

/** Whether the upstream's acr is one the population accepts (an empty list accepts any). */
export function acrAccepted(
  provider: Pick<FederationProviderConfig, 'acceptedAcr'>,
  population: FederationPopulation,
  acr: string | undefined,
): boolean {
  const accepted = provider.acceptedAcr[population];
  return accepted.length === 0 || (acr !== undefined && accepted.includes(acr));
}

/**
 * Whether the upstream proof resists phishing, by the operator's lists: an acr, or an amr, named
 * phishing-resistant. Nothing is by default: a relayable password or code upstream then always
 * needs a local passkey.
 */
export function phishingResistant(
  provider: Pick<FederationProviderConfig, 'phishingResistantAcr' | 'phishingResistantAmr'>,
  acr: string | undefined,
  amr: readonly string[],
): boolean {
  if (acr !== undefined && provider.phishingResistantAcr.includes(acr)) return true;
  return amr.some((a) => provider.phishingResistantAmr.includes(a));
}
