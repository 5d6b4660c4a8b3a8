import { DAY_MS, HOUR_MS } from '../../shared/clock.js';
import type { VigieError } from '../../shared/errors.js';
import { identityErrors as E } from './identity.errors.js';
import type { CreationChainRelation } from './lineage.repository.js';

/**
 * Four-eyes, as a pure decision over facts the service loaded in its transaction. The same rules
 * hold for approving an account a delegated administrator created and for approving a privileged
 * role grant: the second pair of eyes must be a different, established, independent person.
 */
export interface ApprovalFacts {
  readonly approverId: string;
  readonly approverStatus: string;
  readonly approverCreatedAt: string;
  /** Who asked (created the account, or requested the grant); null when Vigie itself did. */
  readonly requesterId: string | null;
  /** The account being approved, or the grantee of the role. */
  readonly subjectAccountId: string;
  readonly approverInRequesterLineage: boolean;
  /**
   * How the approver is tied to the subject's (and requester's) creation chain, if at all: an
   * ancestor of either, or a descendant of one of their ancestors (creationChainTie).
   */
  readonly approverInCreationChain: CreationChainRelation | undefined;
  readonly approverHoldsApproveHere: boolean;
  readonly now: Date;
  readonly minAgeDays: number;
}

/** The first rule the approval breaks, or undefined when it may proceed. Order: most telling first. */
export function approvalRefusal(f: ApprovalFacts): VigieError | undefined {
  if (f.approverId === f.subjectAccountId) return E.approverIsTarget();
  if (f.requesterId !== null && f.approverId === f.requesterId) return E.approverIsCreator();
  if (f.approverInRequesterLineage) return E.approverInLineage();
  if (f.approverInCreationChain !== undefined) return E.approverInCreationChain(f.approverInCreationChain);
  if (f.approverStatus !== 'active') return E.approverNotActive();
  const ageMs = f.now.getTime() - Date.parse(f.approverCreatedAt);
  if (!(ageMs >= f.minAgeDays * DAY_MS)) return E.approverTooRecent(f.minAgeDays);
  if (!f.approverHoldsApproveHere) return E.approverOutOfScope();
  return undefined;
}

export interface QuotaFacts {
  readonly createdInWindow: number;
  readonly pending: number;
  readonly maxCreationsPerDay: number;
  readonly maxPending: number;
}

/** Refuses the creation that would exceed either quota of a delegated administrator. */
export function quotaRefusal(f: QuotaFacts): VigieError | undefined {
  if (f.pending >= f.maxPending) return E.quotaExceeded('pending', f.maxPending);
  if (f.createdInWindow >= f.maxCreationsPerDay) return E.quotaExceeded('daily', f.maxCreationsPerDay);
  return undefined;
}

export const QUOTA_WINDOW_MS = 24 * HOUR_MS;
