import { DistinctCounter } from './distinct-counter.js';
import { EntityStates } from './entity-states.js';
import { compileField, scalarString } from './event-field.js';
import type { RuleBase, RuleBehaviour } from './rule-base.js';
import { MAX_EVIDENCE } from './rule.runtime.js';
import { pushEvidence } from './rule-base.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';

/**
 * Baselines: an entity's daily volume (events, or distinct values of a field) against its own
 * history and, for accounts, against its peer group (same roles, same kind of organisation). The
 * threshold is median + k × max(1, 1.4826 × MAD) — robust to the odd heavy day — and never below
 * `floor`. Cold start: own history counts only after `minHistory` active days, the peer group only
 * after `minPeers` samples; until then the floor alone applies. Fires once per entity and day, at the
 * event that crosses the threshold.
 */
const DAY_MS = 86_400_000;
const OWN_DAYS = 28;
const PEER_SAMPLES = 1000;

export function robustThreshold(samples: readonly number[], k: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = medianOf(sorted);
  const deviations = sorted.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  return median + k * Math.max(1, 1.4826 * medianOf(deviations));
}

function medianOf(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

interface DayState {
  day: number;
  count: number;
  distinct: DistinctCounter | undefined;
  history: number[];
  ownThreshold: number | undefined;
  firedDay: number;
  ids: string[];
}

interface PeerState {
  samples: number[];
  next: number;
  threshold: number | undefined;
  dirty: boolean;
}

export function baselineBehaviour(base: RuleBase): RuleBehaviour {
  const b = base.doc.baseline;
  if (!b) throw new RuleSyntaxError('a baseline rule needs a baseline block');
  if (b.peers && base.doc.entity !== 'account')
    throw new RuleSyntaxError(
      'peer baselines exist for accounts only (peers: same roles, same kind of organisation)',
    );
  const field = b.field ? compileField(b.field, base.virtual) : undefined;
  const minPeers = b.minPeers ?? 20;
  const states = new EntityStates<DayState>(base.env.directory, base.doc.entity);
  const peers = new Map<string, PeerState>();

  const peerThreshold = (group: string | undefined): number | undefined => {
    const p = group ? peers.get(group) : undefined;
    if (!p || p.samples.length < minPeers) return undefined;
    if (p.dirty) {
      p.threshold = robustThreshold(p.samples, b.k);
      p.dirty = false;
    }
    return p.threshold;
  };

  const closeDay = (entity: string, s: DayState) => {
    if (s.count === 0) return;
    s.history.push(s.count);
    if (s.history.length > OWN_DAYS) s.history.shift();
    s.ownThreshold = s.history.length >= b.minHistory ? robustThreshold(s.history, b.k) : undefined;
    const group = b.peers ? base.env.directory.peerGroup(entity) : undefined;
    if (!group) return;
    let p = peers.get(group);
    if (!p) {
      p = { samples: [], next: 0, threshold: undefined, dirty: true };
      peers.set(group, p);
    }
    if (p.samples.length < PEER_SAMPLES) p.samples.push(s.count);
    else p.samples[p.next] = s.count;
    p.next = (p.next + 1) % PEER_SAMPLES;
    p.dirty = true;
  };

  return {
    horizonMs: Infinity,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const entity = base.entityKey(view.event);
      if (entity === undefined) return undefined;
      const day = Math.floor(view.t / DAY_MS);
      let s = states.get(view, entity);
      if (!s) {
        s = {
          day,
          count: 0,
          distinct: undefined,
          history: [],
          ownThreshold: undefined,
          firedDay: -1,
          ids: [],
        };
        states.set(view, entity, s);
      }
      if (day < s.day) return undefined;
      if (day > s.day) {
        closeDay(entity, s);
        s.day = day;
        s.count = 0;
        s.distinct = undefined;
        s.ids = [];
      }
      if (field) {
        const v = scalarString(field(view.event));
        if (v === undefined) return undefined;
        s.distinct ??= new DistinctCounter();
        if (!s.distinct.add(v)) return undefined;
        s.count = s.distinct.size;
      } else s.count++;
      if (s.firedDay === day) return undefined;
      // Evidence is the last events before the crossing, which cannot come before the floor.
      if (s.count > b.floor - MAX_EVIDENCE) pushEvidence(s.ids, view.event.id, MAX_EVIDENCE);
      if (s.count <= b.floor) return undefined;
      const own = s.ownThreshold;
      const peer = b.peers ? peerThreshold(base.env.directory.peerGroup(entity)) : undefined;
      const threshold = Math.max(b.floor, own ?? 0, peer ?? 0);
      if (s.count <= threshold) return undefined;
      s.firedDay = day;
      return base.finding(self, view, entity, s.ids.slice(), {
        count: s.count,
        threshold: Math.round(threshold * 10) / 10,
        ownThreshold: own === undefined ? null : Math.round(own * 10) / 10,
        peerThreshold: peer === undefined ? null : Math.round(peer * 10) / 10,
        historyDays: s.history.length,
      });
    },
    sweep() {},
    stateSize: () => states.size,
  };
}
