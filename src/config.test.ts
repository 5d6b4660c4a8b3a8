import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('defaults to the embedded SQLite database under ./data on port 8080', () => {
    const c = parseConfig({});
    expect(c.databaseUrl).toBe('sqlite:data/vigie.db');
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe('./data');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('accepts a PostgreSQL URL', () => {
    expect(parseConfig({ VIGIE_DATABASE_URL: 'postgres://u@127.0.0.1:5432/v' }).databaseUrl).toBe(
      'postgres://u@127.0.0.1:5432/v',
    );
  });

  it.each([
    ['VIGIE_PORT', 'eighty'],
    ['VIGIE_PORT', '70000'],
    ['VIGIE_DATABASE_URL', 'mysql://x'],
    ['VIGIE_DATABASE_URL', 'sqlite:'],
    ['VIGIE_DELEGATION_MAX_PENDING', '-1'],
    ['VIGIE_LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });
});
