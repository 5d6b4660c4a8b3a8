import { describe, expect, it } from 'vitest';
import { approvalRefusal, quotaRefusal, type ApprovalFacts } from './delegation.policy.js';

const now = new Date('2026-03-02T09:00:00.000Z');
const ok: ApprovalFacts = {
  approverId: 'approver',
  approverStatus: 'active',
  approverCreatedAt: '2026-02-01T00:00:00.000Z',
  requesterId: 'creator',
  subjectAccountId: 'new',
  approverInRequesterLineage: false,
  approverInCreationChain: undefined,
  approverHoldsApproveHere: true,
  now,
  minAgeDays: 7,
};

describe('four-eyes approval rules', () => {
  it('lets an established, independent approver in scope approve', () => {
    expect(approvalRefusal(ok)).toBeUndefined();
  });

  it.each([
    [{ approverId: 'creator' }, 'APPROVER_IS_CREATOR'],
    [{ approverId: 'new' }, 'APPROVER_IS_TARGET'],
    [{ approverInRequesterLineage: true }, 'APPROVER_IN_CREATOR_LINEAGE'],
    [{ approverInCreationChain: 'ancestor' }, 'APPROVER_IN_CREATION_CHAIN'],
    [{ approverInCreationChain: 'descendant_of_ancestor' }, 'APPROVER_IN_CREATION_CHAIN'],
    [{ approverStatus: 'suspended' }, 'APPROVER_NOT_ACTIVE'],
    [{ approverStatus: 'pending_approval' }, 'APPROVER_NOT_ACTIVE'],
    [{ approverCreatedAt: '2026-02-24T09:00:00.001Z' }, 'APPROVER_TOO_RECENT'],
    [{ approverCreatedAt: 'not a date' }, 'APPROVER_TOO_RECENT'],
    [{ approverHoldsApproveHere: false }, 'APPROVER_OUT_OF_SCOPE'],
  ] as const)('refuses %o with %s', (change, code) => {
    const refusal = approvalRefusal({ ...ok, ...change });
    expect(refusal?.code).toBe(code);
    expect(refusal?.status).toBe(403);
  });

  it('counts the minimum age to the millisecond', () => {
    expect(approvalRefusal({ ...ok, approverCreatedAt: '2026-02-23T09:00:00.000Z' })).toBeUndefined();
  });

  it('reports the creator before the lineage when both hold', () => {
    expect(approvalRefusal({ ...ok, approverId: 'creator', approverInRequesterLineage: true })?.code).toBe(
      'APPROVER_IS_CREATOR',
    );
  });
});

describe('delegation quotas', () => {
  const limits = { maxCreationsPerDay: 5, maxPending: 3 };
  it('lets the third pending creation through and stops the fourth', () => {
    expect(quotaRefusal({ ...limits, createdInWindow: 2, pending: 2 })).toBeUndefined();
    const refusal = quotaRefusal({ ...limits, createdInWindow: 3, pending: 3 });
    expect(refusal).toMatchObject({
      code: 'DELEGATION_QUOTA_EXCEEDED',
      status: 429,
      details: { quota: 'pending', limit: 3 },
    });
  });

  it('stops at the rolling daily quota even when approvals emptied the pending list', () => {
    expect(quotaRefusal({ ...limits, createdInWindow: 5, pending: 0 })?.details).toEqual({
      quota: 'daily',
      limit: 5,
    });
  });

  it('refuses everything with a zero quota', () => {
    expect(quotaRefusal({ maxCreationsPerDay: 0, maxPending: 0, createdInWindow: 0, pending: 0 })?.code).toBe(
      'DELEGATION_QUOTA_EXCEEDED',
    );
  });
});
