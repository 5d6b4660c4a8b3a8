import { ipv4Of, ipv6Prefix } from '../../shared/ip-prefix.js';

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
  const v4 = ipv4Of(ip);
  if (v4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  return ipv6Prefix(ip, 3) ?? 'unknown';
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
