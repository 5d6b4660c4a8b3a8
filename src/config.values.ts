/** The pieces every configuration parser shares: the error naming the variable, whole numbers. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw.slice(0, 40)}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `expected a number between ${min} and ${max}`);
  return value;
}
