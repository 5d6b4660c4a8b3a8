import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BudgetLedger } from './budget.ledger.js';
import { decide, type DecisionRequest } from './pdp.js';
import { loadPolicyDir } from './policy.store.js';
import { sceneView } from './policy.testing.js';

const policiesDir = path.resolve(import.meta.dirname, '../../../policies');
const scene = (
  parse(fs.readFileSync(path.join(policiesDir, 'tests/default.yaml'), 'utf8')) as {
    scene: Record<string, unknown>;
  }
).scene;

const ids = [
  'agent-a',
  'agent-b',
  'agent-disabled',
  'agent-closed',
  'agent-training',
  'admin',
  'portal',
  'business-app',
  'r1',
  'r2',
  'r4',
  'r5',
];
const hostileKeys = [
  'auth_level',
  'auth_time',
  'break_glass',
  'approval_token',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
];

const entity = fc.record({
  type: fc.oneof(fc.constantFrom('account', 'application', 'record', 'user'), fc.string({ maxLength: 20 })),
  id: fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 40 })),
  properties: fc.option(fc.dictionary(fc.constantFrom(...hostileKeys, 'records', 'ownerID'), fc.anything()), {
    nil: undefined,
  }),
});
const context = fc.option(
  fc.oneof(
    fc.dictionary(fc.constantFrom(...hostileKeys), fc.anything()),
    fc.record({
      auth_level: fc.constantFrom('phishing_resistant', 'password'),
      auth_time: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.integer(),
        fc.string(),
      ),
      break_glass: fc.record({
        purpose: fc.constantFrom('emergency', 'curiosity'),
        justification: fc.string(),
      }),
      approval_token: fc.string({ maxLength: 300 }),
    }),
  ),
  { nil: undefined },
);
const request = (subject: fc.Arbitrary<DecisionRequest['subject']>) =>
  fc.record({
    subject,
    resource: entity,
    action: fc.record({
      name: fc.oneof(
        fc.constantFrom('read', 'update', 'search', 'export', 'delete'),
        fc.string({ maxLength: 20 }),
      ),
      properties: fc.option(fc.dictionary(fc.constantFrom('records', '__proto__'), fc.anything()), {
        nil: undefined,
      }),
    }),
    context,
    callerId: fc.option(fc.constantFrom('portal', 'business-app', 'ghost'), { nil: undefined }),
  });
const when = fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2035-01-01') });

describe('the PDP under arbitrary requests (fast-check)', () => {
  it('never throws, whatever the request', async () => {
    const policy = await loadPolicyDir(policiesDir);
    const view = sceneView(scene, 'default');
    view.stepUp.set('agent-b', Date.parse('2026-01-01'));
    view.frozen.add('organisation:training');
    const ledger = new BudgetLedger(60);
    fc.assert(
      fc.property(request(entity), when, fc.boolean(), (req, now, commit) => {
        const d = decide(policy, view, ledger, req, now, commit);
        expect(typeof d.decision).toBe('boolean');
        expect(Array.isArray(d.reasons)).toBe(true);
        if (!d.decision) expect(d.reasons.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('never allows an inactive account, nor an account of an inactive organisation', async () => {
    const policy = await loadPolicyDir(policiesDir);
    const view = sceneView(scene, 'default');
    const ledger = new BudgetLedger(60);
    const inactive = fc.record({
      type: fc.constant('account'),
      id: fc.constantFrom('agent-disabled', 'agent-closed'),
      properties: fc.option(fc.dictionary(fc.constantFrom(...hostileKeys), fc.anything()), {
        nil: undefined,
      }),
    });
    fc.assert(
      fc.property(request(inactive), when, (req, now) => {
        const d = decide(policy, view, ledger, req, now, true);
        expect(d.decision).toBe(false);
        expect(d.reasons).toContain('subject_inactive');
      }),
      { numRuns: 3000 },
    );
  });
});
