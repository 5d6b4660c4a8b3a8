import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeVersionRefusal as refusal, REQUIRED_NODE_MAJOR } from '../bin/node-version.js';

describe('the Node.js version check', () => {
  it('accepts Node.js 24 and later, and names the version it needs for anything older', () => {
    expect(REQUIRED_NODE_MAJOR).toBe(24);
    expect(refusal('v24.0.0')).toBeUndefined();
    expect(refusal('v24.22.3')).toBeUndefined();
    expect(refusal('v26.1.0')).toBeUndefined();
    expect(refusal('v20.20.2')).toMatch(/needs Node\.js 24 or later; this is Node\.js v20\.20\.2/);
    expect(refusal('v22.12.0')).toMatch(/Node\.js 24/);
    expect(refusal('garbage')).toMatch(/Node\.js 24/);
  });

  it('runs under Node.js 24', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  // The machines here come with Node.js 20 in /usr/bin: the real entry must stop at once on it.
  const systemNode = '/usr/bin/node';
  const systemMajor = existsSync(systemNode)
    ? Number(execFileSync(systemNode, ['-p', 'process.versions.node.split(".")[0]']).toString())
    : REQUIRED_NODE_MAJOR;
  it.skipIf(systemMajor >= REQUIRED_NODE_MAJOR)(
    'makes `vigie` on an older Node.js exit at once with a message naming the version it needs',
    () => {
      const r = spawnSync(systemNode, ['bin/vigie.js', '--help'], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('vigie needs Node.js 24 or later');
      expect(r.stdout).toBe('');
    },
  );
});
