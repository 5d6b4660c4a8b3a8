import type { VigieEvent } from '../../shared/event.js';
import { EntityStates } from './entity-states.js';
import { compileField, scalarString } from './event-field.js';
import { distanceKm } from './geo.locator.js';
import type { RuleBase, RuleBehaviour } from './rule-base.js';
import type { EventView } from './rule.runtime.js';
import { compileDetection } from './sigma-detection.compiler.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';

/**
 * Novelty rules. `first_seen`: a value (IP, ASN, country, device, hour of day, export…) never seen for
 * the entity (and optional sub-key) before. `geo`: new country or ASN, or travel faster than an
 * airliner between two sign-ins. Both are robust to cold start: nothing is news until the key has
 * `minHistory` observations, and at start the engine replays recent history to warm them.
 */
interface SeenState {
  readonly values: Set<string>;
  observations: number;
}

const fresh = (): SeenState => ({ values: new Set(), observations: 0 });

export function firstSeenBehaviour(base: RuleBase): RuleBehaviour {
  const f = base.doc.firstSeen;
  if (!f) throw new RuleSyntaxError('a first_seen rule needs a firstSeen block');
  const value = compileField(f.value, base.virtual);
  const extra = (f.key ?? []).map((k) => compileField(k, base.virtual));
  const maxValues = f.maxValues ?? 50;
  if (f.reportOn !== undefined && !base.doc.detection)
    throw new RuleSyntaxError('firstSeen.reportOn needs a detection block');
  const reportOn =
    f.reportOn !== undefined
      ? compileDetection({ ...base.doc.detection, condition: f.reportOn }, base.virtual).test
      : undefined;
  // Per entity, then per sub-key (e.g. the session): nested maps, no key string built per event.
  const plain =
    extra.length === 0 ? new EntityStates<SeenState>(base.env.directory, base.doc.entity) : undefined;
  const nested =
    extra.length > 0
      ? new EntityStates<Map<string, SeenState>>(base.env.directory, base.doc.entity)
      : undefined;
  const subKeyOf = (e: VigieEvent): string | undefined => {
    if (extra.length === 1) return scalarString(extra[0]!(e));
    const parts: string[] = [];
    for (const g of extra) {
      const v = scalarString(g(e));
      if (v === undefined) return undefined;
      parts.push(v);
    }
    return parts.join('\u0001');
  };
  const stateOf = (view: EventView, entity: string): SeenState | undefined => {
    if (plain) {
      let s = plain.get(view, entity);
      if (!s) plain.set(view, entity, (s = fresh()));
      return s;
    }
    const sub = subKeyOf(view.event);
    if (sub === undefined) return undefined;
    let inner = nested!.get(view, entity);
    if (!inner) nested!.set(view, entity, (inner = new Map<string, SeenState>()));
    let s = inner.get(sub);
    if (!s) {
      // Bounded per entity: sessions come and go, the oldest is forgotten first.
      if (inner.size >= 1000) inner.delete(inner.keys().next().value!);
      inner.set(sub, (s = fresh()));
    }
    return s;
  };
  return {
    horizonMs: Infinity,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const entity = base.entityKey(view.event);
      if (entity === undefined) return undefined;
      const v = scalarString(value(view.event));
      if (v === undefined) return undefined;
      const s = stateOf(view, entity);
      if (!s) return undefined;
      const isNew = !s.values.has(v);
      const news =
        isNew && s.observations >= f.minHistory && (reportOn === undefined || reportOn(view.event));
      const known = news ? [...s.values].slice(-10) : [];
      if (isNew) {
        if (s.values.size >= maxValues) s.values.delete(s.values.values().next().value!);
        s.values.add(v);
      }
      s.observations++;
      if (!news) return undefined;
      return base.finding(self, view, entity, [view.event.id], {
        field: f.value,
        value: v.slice(0, 100),
        known,
      });
    },
    sweep() {},
    stateSize: () => (plain ?? nested!).size,
  };
}

interface GeoState {
  readonly countries: Set<string>;
  readonly asns: Set<number>;
  observations: number;
  lat: number | undefined;
  lon: number | undefined;
  t: number;
  lastEvent: string;
}

export function geoBehaviour(base: RuleBase): RuleBehaviour {
  const g = base.doc.geo;
  if (!g) throw new RuleSyntaxError('a geo rule needs a geo block');
  const maxSpeed = g.maxSpeedKmh ?? 900;
  const minDistance = g.minDistanceKm ?? 500;
  const states = new EntityStates<GeoState>(base.env.directory, base.doc.entity);
  return {
    horizonMs: Infinity,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const e = view.event;
      const key = base.entityKey(e);
      const where = base.env.geo.locate(e.context?.ip);
      if (key === undefined || !where) return undefined;
      let s = states.get(view, key);
      if (!s) {
        s = {
          countries: new Set(),
          asns: new Set(),
          observations: 0,
          lat: undefined,
          lon: undefined,
          t: 0,
          lastEvent: '',
        };
        states.set(view, key, s);
      }
      let summary: Record<string, unknown> | undefined;
      const seasoned = s.observations >= g.minHistory;
      if (
        g.check === 'new_country' &&
        where.country &&
        !s.countries.has(where.country) &&
        seasoned &&
        s.countries.size > 0
      )
        summary = { country: where.country, known: [...s.countries].slice(-10) };
      if (
        g.check === 'new_asn' &&
        where.asn !== undefined &&
        !s.asns.has(where.asn) &&
        seasoned &&
        s.asns.size > 0
      )
        summary = { asn: where.asn, known: [...s.asns].slice(-10) };
      let evidence = [e.id];
      if (
        g.check === 'impossible_travel' &&
        s.lat !== undefined &&
        where.latitude !== undefined &&
        view.t >= s.t
      ) {
        const km = distanceKm(s.lat, s.lon!, where.latitude, where.longitude!);
        const hours = Math.max((view.t - s.t) / 3_600_000, 1 / 60);
        if (km >= minDistance && km / hours > maxSpeed) {
          summary = {
            distanceKm: Math.round(km),
            hours: Math.round(hours * 100) / 100,
            speedKmh: Math.round(km / hours),
          };
          evidence = [s.lastEvent, e.id];
        }
      }
      if (where.country && s.countries.size < 50) s.countries.add(where.country);
      if (where.asn !== undefined && s.asns.size < 50) s.asns.add(where.asn);
      if (where.latitude !== undefined && view.t >= s.t) {
        s.lat = where.latitude;
        s.lon = where.longitude;
        s.t = view.t;
        s.lastEvent = e.id;
      }
      s.observations++;
      return summary ? base.finding(self, view, key, evidence, summary) : undefined;
    },
    sweep() {},
    stateSize: () => states.size,
  };
}
