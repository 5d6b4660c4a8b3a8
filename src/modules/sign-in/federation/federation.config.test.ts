import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-fed-config-'));
const secretFile = (mode: number, body = 's3cret-value-for-vigie-1234') => {
  const file = path.join(dir, `secret-${mode.toString(8)}-${body.length}`);
  fs.writeFileSync(file, `${body}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
};
const base = {
  VIGIE_FEDERATION_PROVIDERS: 'proconnect',
  VIGIE_FEDERATION_PROCONNECT_ISSUER: 'https://auth.example.gouv.fr/api/v2',
  VIGIE_FEDERATION_PROCONNECT_CLIENT_ID: 'vigie',
  VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET: 'an-inline-secret-of-length',
};

describe('federation configuration', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('configures no upstream by default', () => {
    expect(parseConfig({}).federation).toEqual([]);
  });

  it('reads a provider with conservative defaults: e-mail and SIRET rule, nothing phishing-resistant', () => {
    const [p] = parseConfig({
      ...base,
      VIGIE_FEDERATION_PROCONNECT_ACR_PRIVILEGED: 'eidas2 eidas3',
    }).federation;
    expect(p).toMatchObject({
      id: 'proconnect',
      scopes: 'openid email siret',
      linkRule: 'email_siret',
      requireEmailVerified: true,
      phishingResistantAcr: [],
      phishingResistantAmr: [],
      insecureLoopback: false,
      acceptedAcr: { privileged: ['eidas2', 'eidas3'], agent: [], partner: [], other: [] },
    });
    expect(p!.clientSecret.reveal()).toBe('an-inline-secret-of-length');
  });

  it('never shows the client secret in JSON, logs or inspection', () => {
    const config = parseConfig(base);
    expect(JSON.stringify(config)).not.toContain('an-inline-secret');
    expect(inspect(config, { depth: 10 })).not.toContain('an-inline-secret');
    expect(String(config.federation[0]!.clientSecret)).toBe('[redacted]');
  });

  it('reads the secret from a file readable by its owner only, and refuses one others may read', () => {
    const env = { ...base, VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET: undefined };
    const ok = parseConfig({ ...env, VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET_FILE: secretFile(0o600) });
    expect(ok.federation[0]!.clientSecret.reveal()).toBe('s3cret-value-for-vigie-1234');
    expect(() =>
      parseConfig({ ...env, VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET_FILE: secretFile(0o644) }),
    ).toThrow(/CLIENT_SECRET_FILE: must be readable by its owner only/);
    expect(() =>
      parseConfig({ ...env, VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET_FILE: path.join(dir, 'missing') }),
    ).toThrow(/cannot read this file/);
    expect(() =>
      parseConfig({ ...base, VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET_FILE: secretFile(0o600) }),
    ).toThrow(/not both/);
  });

  it.each([
    ['VIGIE_FEDERATION_PROVIDERS', 'Pro Connect'],
    ['VIGIE_FEDERATION_PROVIDERS', 'proconnect,proconnect'],
    ['VIGIE_FEDERATION_PROCONNECT_ISSUER', 'http://auth.example.gouv.fr'],
    ['VIGIE_FEDERATION_PROCONNECT_ISSUER', 'not a url'],
    ['VIGIE_FEDERATION_PROCONNECT_CLIENT_ID', ''],
    ['VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET', 'short'],
    ['VIGIE_FEDERATION_PROCONNECT_SCOPES', 'email siret'],
    ['VIGIE_FEDERATION_PROCONNECT_LINK_RULE', 'anyone'],
    ['VIGIE_FEDERATION_PROCONNECT_REQUIRE_EMAIL_VERIFIED', 'yes'],
    ['VIGIE_FEDERATION_PROCONNECT_ACR_PRIVILEGED', 'a\u0000b'],
  ])('stops at start-up on %s=%j, naming the variable', (name, value) => {
    expect(() => parseConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, [name]: value })).toThrow(name.split('_').slice(0, 3).join('_'));
  });

  it('allows plain http for a loopback issuer only', () => {
    const [p] = parseConfig({
      ...base,
      VIGIE_FEDERATION_PROCONNECT_ISSUER: 'http://127.0.0.1:9000',
    }).federation;
    expect(p!.insecureLoopback).toBe(true);
  });
});
