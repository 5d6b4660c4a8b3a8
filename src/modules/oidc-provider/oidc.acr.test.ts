import { describe, expect, it } from 'vitest';
import { ACR_VALUES, acrOf, meetsRequest, satisfies } from './oidc.acr.js';
import { strengthOf, TOTP_STRENGTH } from '../sign-in/session.strength.js';

describe('acr values', () => {
  it('maps each session strength to one acr', () => {
    expect(acrOf(strengthOf({ userVerified: true, deviceType: 'singleDevice' }))).toBe(
      'urn:vigie:acr:phishing-resistant:aal3',
    );
    expect(acrOf(strengthOf({ userVerified: true, deviceType: 'multiDevice' }))).toBe(
      'urn:vigie:acr:phishing-resistant:aal2',
    );
    expect(acrOf(strengthOf({ userVerified: false, deviceType: 'singleDevice' }))).toBe(
      'urn:vigie:acr:phishing-resistant:aal1',
    );
    expect(acrOf(TOTP_STRENGTH)).toBe('urn:vigie:acr:aal2');
  });

  it('orders them partially: TOTP never meets a phishing-resistant request, one factor never meets aal2', () => {
    expect(satisfies('urn:vigie:acr:aal2', 'urn:vigie:acr:phishing-resistant:aal1')).toBe(false);
    expect(satisfies('urn:vigie:acr:phishing-resistant:aal1', 'urn:vigie:acr:aal2')).toBe(false);
    expect(satisfies('urn:vigie:acr:phishing-resistant:aal2', 'urn:vigie:acr:aal2')).toBe(true);
    for (const a of ACR_VALUES) expect(satisfies(a, a)).toBe(true);
    for (const a of ACR_VALUES) expect(satisfies('urn:vigie:acr:phishing-resistant:aal3', a)).toBe(true);
  });

  it('meets a request when any listed value is met, ignores unknown values, and meets an empty one', () => {
    expect(meetsRequest('urn:vigie:acr:aal2', [])).toBe(true);
    expect(meetsRequest('urn:vigie:acr:aal2', ['urn:other', '__proto__'])).toBe(true);
    expect(
      meetsRequest('urn:vigie:acr:aal2', ['urn:vigie:acr:phishing-resistant:aal3', 'urn:vigie:acr:aal2']),
    ).toBe(true);
    expect(meetsRequest('urn:vigie:acr:aal2', ['urn:vigie:acr:phishing-resistant:aal1'])).toBe(false);
  });
});
