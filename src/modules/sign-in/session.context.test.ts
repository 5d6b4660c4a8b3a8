import { describe, expect, it } from 'vitest';
import { browserFamily, networkPrefix } from './session.context.js';
import { strengthOf } from './session.strength.js';

describe('session binding facts', () => {
  it.each([
    ['192.0.2.77', '192.0.2.0/24'],
    ['::ffff:198.51.100.7', '198.51.100.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:0db8:0000::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['not an address', 'unknown'],
  ])('keeps only the network of %s: %s', (ip, prefix) => {
    expect(networkPrefix(ip)).toBe(prefix);
  });

  it.each([
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36',
      'chrome',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36',
      'chrome',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0',
      'edge',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0', 'firefox'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'safari',
    ],
    ['curl/8.5.0', 'other'],
    [undefined, 'other'],
  ])('reads the browser family of %s as %s', (ua, family) => {
    expect(browserFamily(ua)).toBe(family);
  });

  it('maps passkey facts to NIST SP 800-63B levels: device-bound with UV AAL3, synced AAL2, no UV AAL1', () => {
    expect(strengthOf({ userVerified: true, deviceType: 'singleDevice' })).toEqual({
      authLevel: 'phishing_resistant',
      aal: 'aal3',
      amr: ['hwk', 'mfa', 'user'],
    });
    expect(strengthOf({ userVerified: true, deviceType: 'multiDevice' }).aal).toBe('aal2');
    expect(strengthOf({ userVerified: false, deviceType: 'singleDevice' })).toMatchObject({
      authLevel: 'phishing_resistant_single_factor',
      aal: 'aal1',
    });
  });
});
