import { isIPv4, isIPv6 } from 'node:net';

/**
 * Network prefixes of client addresses, for counting (the auth brake) and binding (sessions): an
 * IPv4-mapped IPv6 address is its IPv4 address, and an IPv6 address is reduced to its first groups,
 * since one subscriber holds a whole /64 (often a /48) and rotating within it must gain nothing.
 */
export const ipv4Of = (ip: string): string | undefined => {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  const v4 = mapped ? mapped[1]! : ip;
  return isIPv4(v4) ? v4 : undefined;
};

/** The first `groups` groups of an IPv6 address, `::` expanded, leading zeros dropped, as `a:b:c::/N`. */
export function ipv6Prefix(ip: string, groups: number): string | undefined {
  if (!isIPv6(ip)) return undefined;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = ip.includes('::') && tail !== '' ? tail.split(':') : [];
  const all = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${all
    .slice(0, groups)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/${groups * 16}`;
}
