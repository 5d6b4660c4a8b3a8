import { describe, expect, it } from 'vitest';
import { federatedStrengthOf, strengthOf } from '../session.strength.js';
import { acrAccepted, phishingResistant, populationOf } from './federation.policy.js';

const none = { privileged: [], agent: [], partner: [], other: [] };

describe('federation policy', () => {
  it('puts an account in its population by the TOTP policy’s rule: privileged, agent, partner, other', () => {
    const agent = { roleId: 'agent', privileged: false };
    const admin = { roleId: 'account_manager', privileged: true };
    expect(populationOf({ grants: [agent, admin], organisationKind: 'training_organisation' })).toBe(
      'privileged',
    );
    expect(populationOf({ grants: [agent], organisationKind: 'training_organisation' })).toBe('agent');
    expect(populationOf({ grants: [], organisationKind: 'training_organisation' })).toBe('partner');
    expect(populationOf({ grants: [], organisationKind: 'mission_locale' })).toBe('other');
  });

  it('accepts any acr for a population with no list, and only the listed ones otherwise', () => {
    expect(acrAccepted({ acceptedAcr: none }, 'privileged', undefined)).toBe(true);
    const strict = { acceptedAcr: { ...none, privileged: ['eidas3'] } };
    expect(acrAccepted(strict, 'privileged', 'eidas3')).toBe(true);
    expect(acrAccepted(strict, 'privileged', 'eidas1')).toBe(false);
    expect(acrAccepted(strict, 'privileged', undefined)).toBe(false);
    expect(acrAccepted(strict, 'other', 'eidas1')).toBe(true);
  });

  it('counts nothing as phishing-resistant unless the operator lists its acr or amr', () => {
    const empty = { phishingResistantAcr: [], phishingResistantAmr: [] };
    expect(phishingResistant(empty, 'eidas3', ['hwk'])).toBe(false);
    const listed = { phishingResistantAcr: ['urn:pr'], phishingResistantAmr: ['hwk'] };
    expect(phishingResistant(listed, 'urn:pr', ['pwd'])).toBe(true);
    expect(phishingResistant(listed, 'eidas1', ['pwd', 'hwk'])).toBe(true);
    expect(phishingResistant(listed, 'eidas1', ['pwd', 'otp'])).toBe(false);
  });

  it('gives a relayable upstream proof no strength of its own: the local passkey’s, or none at all', () => {
    expect(() => federatedStrengthOf({ upstreamAmr: ['pwd'], phishingResistant: false })).toThrow();
    const passkey = strengthOf({ userVerified: true, deviceType: 'singleDevice' });
    expect(
      federatedStrengthOf({
        upstreamAmr: ['pwd', 'Bad Value'],
        phishingResistant: false,
        localPasskey: passkey,
      }),
    ).toEqual({
      authLevel: 'phishing_resistant',
      aal: 'aal3',
      amr: ['hwk', 'mfa', 'user', 'fed', 'fed:pwd'],
    });
    expect(federatedStrengthOf({ upstreamAmr: ['hwk'], phishingResistant: true })).toEqual({
      authLevel: 'phishing_resistant',
      aal: 'aal2',
      amr: ['fed', 'fed:hwk'],
    });
  });
});
