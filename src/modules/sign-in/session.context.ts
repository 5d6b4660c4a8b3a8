import { isIPv4, isIPv6 } from 'node:net';

/**
 * What a session is bound to: the client's network and browser family when it started. These are
 * network and software facts, not the person's address: an IPv4 /24 or an IPv6 /48, and a coarse
 * family parsed from the User-Agent. A change of either ends the session.
 */
export interface SessionContext {
  readonly networkPrefix: string;
  readonly browserFamily: BrowserFamily;
}

export type BrowserFamily = 'chrome' | 'firefox' | 'safari' | 'edge' | 'other';

export function networkPrefix(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  const v4 = mapped ? mapped[1]! : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return 'unknown';
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = ip.includes('::') && tail !== '' ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 3)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/48`;
}

/** Order matters: Edge and Chrome both say "Chrome", Chrome and Safari both say "Safari". */
export function browserFamily(userAgent: string | undefined): BrowserFamily {
  const ua = (userAgent ?? '').slice(0, 512);
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'edge';
  if (/\b(Firefox|FxiOS)\//.test(ua)) return 'firefox';
  if (/\b(HeadlessChrome|Chrome|Chromium|CriOS)\//.test(ua)) return 'chrome';
  if (/\bVersion\/[\d.]+.*\bSafari\//.test(ua)) return 'safari';
  return 'other';
}

export function contextOf(request: { ip: string; userAgent: string | undefined }): SessionContext {
  return { networkPrefix: networkPrefix(request.ip), browserFamily: browserFamily(request.userAgent) };
}

export function sameContext(a: SessionContext, b: SessionContext): boolean {
  return a.networkPrefix === b.networkPrefix && a.browserFamily === b.browserFamily;
}
