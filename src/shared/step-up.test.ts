import { describe, expect, it } from 'vitest';
import type { AccountPrincipal, SessionFacts } from './principal.js';
import { stepUpRefusal } from './step-up.js';

const NOW = Date.parse('2026-03-02T09:00:00.000Z');
const MAX = 300_000;
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function principal(session?: Partial<SessionFacts>, tokenStepUp?: true): AccountPrincipal {
  return {
    kind: 'account',
    accountId: 'a',
    organisationId: 'o',
    tokenId: 't',
    grants: [],
    authLevel: session ? 'phishing_resistant' : 'api_token',
    ...(session
      ? {
          session: {
            id: 's',
            method: 'passkey',
            aal: 'aal3',
            amr: ['hwk', 'mfa', 'user'],
            absoluteExpiresAt: at(-3_600_000),
            ...session,
          },
        }
      : {}),
    ...(tokenStepUp ? { tokenStepUp } : {}),
  };
}

describe('stepUpRefusal', () => {
  it('accepts a passkey session stepped up at most five minutes ago, up to the limit itself', () => {
    expect(stepUpRefusal(principal({ stepUpAt: at(0) }), NOW, MAX)).toBeUndefined();
    expect(stepUpRefusal(principal({ stepUpAt: at(MAX) }), NOW, MAX)).toBeUndefined();
  });

  it('refuses a missing, expired, future-dated or unparsable step-up', () => {
    expect(stepUpRefusal(principal({}), NOW, MAX)).toBe('step_up_missing');
    expect(stepUpRefusal(principal({ stepUpAt: at(MAX + 1) }), NOW, MAX)).toBe('step_up_expired');
    expect(stepUpRefusal(principal({ stepUpAt: at(-1_000) }), NOW, MAX)).toBe('step_up_expired');
    expect(stepUpRefusal(principal({ stepUpAt: 'not a date' }), NOW, MAX)).toBe('step_up_expired');
  });

  it('never accepts a TOTP or recovery session, even one carrying a stamp', () => {
    for (const method of ['totp', 'recovery'] as const)
      expect(stepUpRefusal(principal({ method, stepUpAt: at(0) }), NOW, MAX)).toBe(
        'passkey_session_required',
      );
  });

  it('accepts a token minted by the operator or under a step-up, and no other', () => {
    expect(stepUpRefusal(principal(undefined, true), NOW, MAX)).toBeUndefined();
    expect(stepUpRefusal(principal(), NOW, MAX)).toBe('token_without_step_up');
  });
});
